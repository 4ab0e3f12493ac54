package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/score"
)

// The types below give the elements and attributes of the JUnit XML that
// gotestsum writes (gotestsum --junitfile, internal/junitxml/report.go in
// gotest.tools/gotestsum v1.13.0), in its order, so that a tool that reads
// gotestsum's reports reads ours. JUNIT.md beside this file says where we
// differ and why.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr,omitempty"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

// A junitSuite has no "errors" attribute, as gotestsum's has none, and no
// "skipped", which gotestsum writes only when not zero and we never have
// (a skipped test earns nothing, so it is a failure). Nor has it the
// "timestamp" gotestsum writes: a result records no time, and the time
// the report is printed would be false for a result printed again later.
type junitSuite struct {
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       string          `xml:"time,attr"`
	Name       string          `xml:"name,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitCase struct {
	Classname string `xml:"classname,attr"`
	Name      string `xml:"name,attr"`
	Time      string `xml:"time,attr"`
	// Properties is a pointer so that a case without any has no empty
	// <properties/>.
	Properties *junitProperties `xml:"properties,omitempty"`
	Failure    *junitFailure    `xml:"failure,omitempty"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// A junitFailure always has the message "Failed" and an empty type, as
// gotestsum writes it; what went wrong is its text.
type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitFailed is the message attribute of every failure, gotestsum's.
const junitFailed = "Failed"

// junitPackageCase is the name gotestsum gives the case that stands for a
// package that failed outside any test: one that did not build, or whose
// TestMain or init failed.
const junitPackageCase = "TestMain"

// Property names: "ipclab." keeps them apart from the go.version that
// gotestsum writes and from the attributes a Go test can set with t.Attr,
// which gotestsum writes as properties of its case.
const (
	propHidden    = "ipclab.hidden"
	propIsolation = "ipclab.isolation"
	propMaxScore  = "ipclab.max_score"
	propMessage   = "ipclab.message"
	propScore     = "ipclab.score"
	propStatus    = "ipclab.status"
	propTitle     = "ipclab.title"
)

// JUnit prints r as JUnit XML in the shape gotestsum writes, for CI
// systems and test dashboards: one <testsuite> per exercise, named by its
// id, and one <testcase> per test, hidden tests included, in the
// manifest's order. A test not passed, "fail" or "error" alike, has a
// <failure message="Failed" type=""> holding its message. An exercise
// that could not be tested (it does not build, or a static check or the
// time budget stopped it) also has a first case named TestMain with the
// exercise's message as its failure, as gotestsum shows a package that
// failed to build; it counts in the failures and errors of <testsuites>,
// and in none of its own suite's counts.
//
// JUnit has no points: each case carries its points, status and whether it
// is hidden as properties (as gotestsum carries a test's t.Attr
// attributes), and each suite its title, points, status, message and the
// isolation level the tests ran with. JUNIT.md beside this file has the
// whole mapping.
//
// Everything a submission can influence is made safe for XML first:
// characters XML 1.0 does not allow (control characters other than tab
// and line feed, invalid UTF-8, U+FFFE and U+FFFF) become U+FFFD, and line
// endings become "\n"; encoding/xml escapes the rest.
func JUnit(w io.Writer, r *score.Result) error {
	doc := junitSuites{Name: xmlText(r.Submission)}
	var seconds float64
	isolation := strings.TrimPrefix(isolationLine(r.Isolation), "isolation: ")
	for _, e := range r.Exercises {
		suite, suiteSeconds := junitSuiteOf(e, isolation)
		doc.Suites = append(doc.Suites, suite)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		if e.Status == score.Error {
			doc.Failures++
			doc.Errors++
		}
		seconds += suiteSeconds
	}
	doc.Time = junitSeconds(seconds)
	out, err := xml.MarshalIndent(doc, "", "\t")
	if err != nil {
		return fmt.Errorf("junit format: %w", err)
	}
	// gotestsum ends the file at the closing tag; we end the last line,
	// as every other format does. XML allows white space after the root.
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, out)
	return err
}

// junitSuiteOf is the suite of exercise e, and the seconds its tests took.
func junitSuiteOf(e *score.Exercise, isolation string) (junitSuite, float64) {
	id := xmlText(e.ID)
	props := []junitProperty{
		{propIsolation, xmlText(isolation)},
		{propMaxScore, num(e.MaxScore)},
	}
	if e.Message != "" {
		props = append(props, junitProperty{propMessage, xmlText(e.Message)})
	}
	props = append(props,
		junitProperty{propScore, num(e.Score)},
		junitProperty{propStatus, string(e.Status)},
		junitProperty{propTitle, xmlText(e.Title)},
	)
	suite := junitSuite{Tests: len(e.Tests), Name: id, Properties: props}
	if e.Status == score.Error {
		// gotestsum leaves this case's classname empty: it stands for
		// the package, not for a test in it.
		suite.Cases = append(suite.Cases, junitCase{
			Name: junitPackageCase,
			Time: junitSeconds(0),
			Failure: &junitFailure{
				Message: junitFailed,
				Text:    xmlText(e.Message),
			},
		})
	}
	var seconds float64
	for _, t := range e.Tests {
		c := junitCase{
			Classname: id,
			Name:      xmlText(t.Name),
			Time:      junitSeconds(t.Seconds),
			Properties: &junitProperties{Property: []junitProperty{
				{propHidden, fmt.Sprint(t.Hidden)},
				{propMaxScore, num(t.MaxScore)},
				{propScore, num(t.Score)},
				{propStatus, string(t.Status)},
			}},
		}
		if t.Status != score.Pass {
			suite.Failures++
			c.Failure = &junitFailure{Message: junitFailed, Text: xmlText(t.Message)}
		}
		suite.Cases = append(suite.Cases, c)
		seconds += t.Seconds
	}
	suite.Time = junitSeconds(seconds)
	return suite, seconds
}

// junitSeconds writes a duration as gotestsum does: seconds with six
// decimals.
func junitSeconds(s float64) string { return fmt.Sprintf("%f", s) }

// xmlText makes s fit for XML 1.0 (see JUnit). encoding/xml would replace
// most of these characters itself, but not line endings, and we would
// rather not depend on that for what a hostile submission writes.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0xFFFE || r == 0xFFFF {
			return 0xFFFD
		}
		return r
	}, safeText(s))
}
