package ipcbench

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// shortNames label the chart's bars.
var shortNames = map[string]string{"shm": "shm ring", "pipe": "pipe", "fifo": "FIFO", "unix": "Unix socket", "tcp": "TCP", "udp": "UDP"}

// Chart draws two bar charts side by side, 64-byte messages per second
// and the 1-byte round trip, one bar per mechanism, and writes them to
// file as SVG or PNG (by its extension).
func (r *Results) Chart(file string, title string) error {
	var names []string
	var rate, rtt plotter.Values
	for _, m := range Mechanisms {
		t := r.get("Throughput/" + m.Key + "/64").MsgsPerS
		rt := r.get("RoundTrip/" + m.Key).NsPerOp
		if t == 0 || rt == 0 {
			continue
		}
		names = append(names, shortNames[m.Key])
		rate = append(rate, t/1e6)
		rtt = append(rtt, rt/1e3)
	}
	if len(names) == 0 {
		return fmt.Errorf("nothing measured to chart")
	}
	left, err := barChart("64-byte messages, millions per second", "million msgs/s (more is better)", names, rate, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff})
	if err != nil {
		return err
	}
	right, err := barChart("1-byte round trip, microseconds", "µs (less is better)", names, rtt, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff})
	if err != nil {
		return err
	}
	w, h := 11*vg.Inch, 4*vg.Inch
	var canvas interface {
		vg.CanvasSizer
	}
	var write func(*os.File) error
	switch strings.ToLower(filepath.Ext(file)) {
	case ".svg":
		c := vgsvg.New(w, h)
		canvas, write = c, func(f *os.File) error { _, err := c.WriteTo(f); return err }
	case ".png":
		c := vgimg.New(w, h)
		png := vgimg.PngCanvas{Canvas: c}
		canvas, write = c, func(f *os.File) error { _, err := png.WriteTo(f); return err }
	default:
		return fmt.Errorf("chart %s: want a .svg or .png file", file)
	}
	dc := draw.New(canvas)
	titleHeight := vg.Points(22)
	top := draw.Crop(dc, 0, 0, 0, -titleHeight)
	plots := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(plots, draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}, top)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	font := plot.DefaultFont
	font.Size = vg.Points(13)
	sty := draw.TextStyle{Color: color.Black, Font: font, XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	dc.FillText(sty, vg.Point{X: w / 2, Y: h - vg.Points(4)}, title)

	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func barChart(title, ylabel string, names []string, values plotter.Values, c color.Color) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	bars, err := plotter.NewBarChart(values, vg.Points(28))
	if err != nil {
		return nil, err
	}
	bars.Color = c
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars)
	p.NominalX(names...)
	return p, nil
}
