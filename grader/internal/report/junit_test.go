package report

import (
	"bytes"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/score"
)

// The types below read JUnit XML as a consumer of gotestsum's reports
// would, written apart from the writer's so that a wrong tag there cannot
// be mirrored here. Attributes the writer must not write are read too, to
// check that they are absent.

type readSuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr"`
	Tests    string      `xml:"tests,attr"`
	Failures string      `xml:"failures,attr"`
	Errors   string      `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Suites   []readSuite `xml:"testsuite"`
}

type readSuite struct {
	Tests      string         `xml:"tests,attr"`
	Failures   string         `xml:"failures,attr"`
	Errors     *string        `xml:"errors,attr"`
	Skipped    *string        `xml:"skipped,attr"`
	Time       string         `xml:"time,attr"`
	Name       string         `xml:"name,attr"`
	Properties []readProperty `xml:"properties>property"`
	Cases      []readCase     `xml:"testcase"`
}

type readCase struct {
	Classname  string         `xml:"classname,attr"`
	Name       string         `xml:"name,attr"`
	Time       string         `xml:"time,attr"`
	Properties []readProperty `xml:"properties>property"`
	Failure    *struct {
		Message string  `xml:"message,attr"`
		Type    *string `xml:"type,attr"`
		Text    string  `xml:",chardata"`
	} `xml:"failure"`
	Error   *struct{} `xml:"error"`
	Skipped *struct{} `xml:"skipped"`
}

type readProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

func parseJUnit(t *testing.T, out []byte) readSuites {
	t.Helper()
	var doc readSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("the JUnit output does not parse: %v\n%s", err, out)
	}
	return doc
}

// properties reads a property list into a map, failing on a name that
// occurs twice.
func properties(t *testing.T, where string, props []readProperty) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range props {
		if _, dup := m[p.Name]; dup {
			t.Errorf("%s: property %s twice", where, p.Name)
		}
		m[p.Name] = p.Value
	}
	return m
}

// checkCount checks an integer attribute.
func checkCount(t *testing.T, where, attr, got string, want int) {
	t.Helper()
	if got != strconv.Itoa(want) {
		t.Errorf("%s: %s=%q, want %d", where, attr, got, want)
	}
}

// checkSeconds checks a time attribute: seconds with six decimals, as
// gotestsum writes them.
func checkSeconds(t *testing.T, where, got string, want float64) {
	t.Helper()
	f, err := strconv.ParseFloat(got, 64)
	if err != nil || math.Abs(f-want) > 1e-6 {
		t.Errorf("%s: time=%q, want %f", where, got, want)
	}
	if dot := len(got) - 7; dot < 0 || got[dot] != '.' {
		t.Errorf("%s: time=%q, want six decimals", where, got)
	}
}

// checkJUnit reads JUnit's output for r back and checks every field
// against r: counts per suite and in all, each case's classname, name,
// time and properties, and a failure with the test's message exactly when
// the test did not pass.
func checkJUnit(t *testing.T, r *score.Result) {
	t.Helper()
	var buf bytes.Buffer
	if err := JUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	doc := parseJUnit(t, buf.Bytes())
	if doc.Name != r.Submission {
		t.Errorf("testsuites name=%q, want the submission %q", doc.Name, r.Submission)
	}
	if len(doc.Suites) != len(r.Exercises) {
		t.Fatalf("%d suites, want one per exercise: %d", len(doc.Suites), len(r.Exercises))
	}
	var tests, failures, errors int
	var seconds float64
	for i, e := range r.Exercises {
		s := doc.Suites[i]
		where := "suite " + e.ID
		if s.Name != e.ID {
			t.Errorf("%s: name=%q, want the exercise id", where, s.Name)
		}
		if s.Errors != nil || s.Skipped != nil {
			t.Errorf("%s: has errors or skipped, which gotestsum's suites do not", where)
		}
		props := properties(t, where, s.Properties)
		wantProps := map[string]string{
			"ipclab.isolation": "limits — NOT tamper-proof: " + r.Isolation.Note,
			"ipclab.max_score": num(e.MaxScore),
			"ipclab.score":     num(e.Score),
			"ipclab.status":    string(e.Status),
			"ipclab.title":     e.Title,
		}
		if r.Isolation.TamperProof {
			wantProps["ipclab.isolation"] = r.Isolation.Level + " (tamper-proof)"
		}
		if e.Message != "" {
			wantProps["ipclab.message"] = e.Message
		}
		checkProperties(t, where, props, wantProps)

		cases := s.Cases
		suiteFailures := 0
		if e.Status == score.Error {
			// The exercise could not be tested: first a TestMain case
			// with its message, as gotestsum shows a build failure.
			if len(cases) == 0 {
				t.Fatalf("%s: no cases, want TestMain first", where)
			}
			c := cases[0]
			cases = cases[1:]
			if c.Name != "TestMain" || c.Classname != "" || c.Failure == nil || c.Failure.Text != e.Message || len(c.Properties) != 0 {
				t.Errorf("%s: first case %+v, want TestMain without classname or properties, failing with the exercise's message %q", where, c, e.Message)
			}
			checkSeconds(t, where+" TestMain", c.Time, 0)
			failures++
			errors++
		}
		if len(cases) != len(e.Tests) {
			t.Fatalf("%s: %d test cases, want one per test: %d", where, len(cases), len(e.Tests))
		}
		var suiteSeconds float64
		for j, tt := range e.Tests {
			c := cases[j]
			where := where + " case " + tt.Name
			if c.Classname != e.ID || c.Name != tt.Name {
				t.Errorf("%s: classname=%q name=%q, want %q %q", where, c.Classname, c.Name, e.ID, tt.Name)
			}
			checkSeconds(t, where, c.Time, tt.Seconds)
			checkProperties(t, where, properties(t, where, c.Properties), map[string]string{
				"ipclab.hidden":    strconv.FormatBool(tt.Hidden),
				"ipclab.max_score": num(tt.MaxScore),
				"ipclab.score":     num(tt.Score),
				"ipclab.status":    string(tt.Status),
			})
			if c.Error != nil || c.Skipped != nil {
				t.Errorf("%s: has <error> or <skipped>; every test not passed is a <failure>", where)
			}
			switch {
			case tt.Status == score.Pass && c.Failure != nil:
				t.Errorf("%s: passed, but has a failure %+v", where, c.Failure)
			case tt.Status != score.Pass && c.Failure == nil:
				t.Errorf("%s: %s, but has no failure", where, tt.Status)
			case c.Failure != nil:
				suiteFailures++
				if c.Failure.Message != "Failed" || c.Failure.Type == nil || *c.Failure.Type != "" {
					t.Errorf("%s: failure message=%q type=%v, want gotestsum's \"Failed\" and \"\"", where, c.Failure.Message, c.Failure.Type)
				}
				if c.Failure.Text != tt.Message {
					t.Errorf("%s: failure text %q, want the test's message %q", where, c.Failure.Text, tt.Message)
				}
			}
			suiteSeconds += tt.Seconds
		}
		checkCount(t, where, "tests", s.Tests, len(e.Tests))
		checkCount(t, where, "failures", s.Failures, suiteFailures)
		checkSeconds(t, where, s.Time, suiteSeconds)
		tests += len(e.Tests)
		failures += suiteFailures
		seconds += suiteSeconds
	}
	checkCount(t, "testsuites", "tests", doc.Tests, tests)
	checkCount(t, "testsuites", "failures", doc.Failures, failures)
	checkCount(t, "testsuites", "errors", doc.Errors, errors)
	checkSeconds(t, "testsuites", doc.Time, seconds)
}

func checkProperties(t *testing.T, where string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: property %s=%q, want %q", where, k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected property %s", where, k)
		}
	}
}

func TestJUnitReadsBack(t *testing.T) {
	t.Run("sample", func(t *testing.T) { checkJUnit(t, sample()) })
	t.Run("all passed", func(t *testing.T) {
		r := resultOf(&score.Exercise{ID: "pipe", Title: "Pipes", Tests: []*score.Test{
			testResult("TestEOF", 5, score.Pass),
			testResult("TestHiddenEOF", 5, score.Pass),
		}})
		r.Exercises[0].Tests[1].Hidden = true
		r.Exercises[0].Tests[0].Seconds = 0.0004
		checkJUnit(t, r)
	})
	t.Run("no tests", func(t *testing.T) {
		checkJUnit(t, resultOf(&score.Exercise{ID: "fifo", Title: "FIFOs"}))
	})
	t.Run("no exercises", func(t *testing.T) { checkJUnit(t, resultOf()) })
}

// A message from a hostile submission can neither break the XML nor add
// to it: what XML 1.0 forbids is replaced, markup is escaped, and the
// document reads back with the same cases and the message as text.
func TestJUnitHostileMessage(t *testing.T) {
	const hostile = "a\x00b\x1b[31mc\rd\r\ne\xffF\uFFFEg\uFFFF\u0085" +
		`</failure></testcase><testcase classname="x" name="forged"><![CDATA[x]]>&amp;&#0;` + "\t]]>--"
	const want = "a\uFFFDb\uFFFD[31mc\nd\ne\uFFFDF\uFFFDg\uFFFD\uFFFD" +
		`</failure></testcase><testcase classname="x" name="forged"><![CDATA[x]]>&amp;&#0;` + "\t]]>--"

	r := resultOf(&score.Exercise{ID: "counter", Title: "Race conditions", Tests: []*score.Test{
		{Name: "TestInc", MaxScore: 10, Status: score.Fail, Message: hostile, Seconds: 1},
	}})
	r.Submission = hostile
	r.Exercises = append(r.Exercises, score.Unrunnable(&course.Exercise{ID: "buffer", Title: "Buffers"},
		[]course.Test{{Name: "TestBoundedFIFO", Points: 20}}, hostile))
	r.Total()

	var buf bytes.Buffer
	if err := JUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if !utf8.Valid(out) {
		t.Fatalf("the output is not UTF-8:\n%q", out)
	}
	for i, c := range string(out) {
		if !xmlChar(c) {
			t.Errorf("byte %d: %U, which XML 1.0 does not allow", i, c)
		}
	}
	doc := parseJUnit(t, out)
	if doc.Name != want {
		t.Errorf("testsuites name=%q, want %q", doc.Name, want)
	}
	if len(doc.Suites) != 2 || len(doc.Suites[0].Cases) != 1 || len(doc.Suites[1].Cases) != 2 {
		t.Fatalf("the message changed the document's shape:\n%s", out)
	}
	if f := doc.Suites[0].Cases[0].Failure; f == nil || f.Text != want {
		t.Errorf("failure = %+v, want the text %q", f, want)
	}
	if f := doc.Suites[1].Cases[0].Failure; f == nil || f.Text != want {
		t.Errorf("TestMain's failure = %+v, want the exercise's message as text %q", f, want)
	}
	if got := properties(t, "buffer", doc.Suites[1].Properties)["ipclab.message"]; got != want {
		t.Errorf("buffer's ipclab.message=%q, want %q", got, want)
	}
}

// xmlChar reports whether XML 1.0 allows c in a document (production
// [2] Char).
func xmlChar(c rune) bool {
	return c == '\t' || c == '\n' || c == '\r' ||
		0x20 <= c && c <= 0xD7FF || 0xE000 <= c && c <= 0xFFFD || 0x10000 <= c && c <= 0x10FFFF
}

// JUNIT.md shows the golden file as its example; this keeps the two equal.
func TestJUnitDocExample(t *testing.T) {
	doc, err := os.ReadFile("JUNIT.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "sample.junit"))
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "```xml\n")
	example, _, ok2 := strings.Cut(example, "```\n")
	if !ok || !ok2 {
		t.Fatal("JUNIT.md has no ```xml block")
	}
	if example != string(golden) {
		t.Errorf("the example in JUNIT.md differs from testdata/sample.junit; copy it over:\n%s", golden)
	}
}
