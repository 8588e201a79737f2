package harness

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	svgWidth   = 980
	svgLabelW  = 150 // server names
	svgBarX    = 160
	svgBarW    = 540
	svgValueX  = svgBarX + svgBarW + 12
	svgBarH    = 18
	svgBarGap  = 6
	svgTitleH  = 26
	svgPanelGY = 22 // space after a panel
)

var serverColors = map[string]string{
	"gnet":           "#4c78a8",
	"whirl":          "#f58518",
	"whirl-line":     "#e45756",
	"whirl-stream":   "#ff9da6",
	"stdlib":         "#72b7b2",
	"python-twisted": "#54a24b",
	"python-tornado": "#b279a2",
}

func colorOf(server string) string {
	if c, ok := serverColors[server]; ok {
		return c
	}
	return "#9d9d9d"
}

// WriteSVG draws the report as an SVG chart: one panel per scenario, a bar
// per server at its median (messages or connections per second; resident
// memory per connection for idle scenarios), a line from the smallest to the
// largest round, and the ratio to gnet. Any goroutine.
func (rep *Report) WriteSVG(w io.Writer) error {
	var body strings.Builder
	y := 0
	esc := html.EscapeString

	m := rep.Machine
	y += 24
	fmt.Fprintf(&body, `<text x="10" y="%d" font-size="18" font-weight="bold">whirl benchmarks: echo servers side by side</text>`+"\n", y)
	y += 20
	sub := fmt.Sprintf("%s, %d CPUs, %s, gnet %s · %d rounds interleaved, %s per cell", m.CPU, m.NumCPU, m.GoVersion, m.Gnet, rep.Settings.Rounds, rep.Settings.Duration)
	if rep.Settings.ServerCPUs != "" {
		sub += fmt.Sprintf(" · server on CPU %s, client on CPU %s", rep.Settings.ServerCPUs, orAll(rep.Settings.ClientCPUs))
	}
	fmt.Fprintf(&body, `<text x="10" y="%d" font-size="12" fill="#555">%s</text>`+"\n", y, esc(sub))
	y += 16
	fmt.Fprintf(&body, `<text x="10" y="%d" font-size="12" fill="#555">bar: median · line: min–max over rounds · N× gnet: ratio of medians · %s</text>`+"\n", y, esc(rep.Started.Format("2006-01-02")))
	y += 14

	for _, sc := range rep.Scenarios {
		unit, better := "msgs/s", "higher is better"
		switch sc.Mode {
		case ModeSetup:
			unit = "conns/s"
		case ModeIdle:
			unit, better = "RSS per connection", "lower is better"
		}
		y += svgTitleH
		fmt.Fprintf(&body, `<text x="10" y="%d" font-size="14" font-weight="bold">%s</text>`, y, esc(sc.Title))
		fmt.Fprintf(&body, `<text x="%d" y="%d" font-size="11" fill="#777" text-anchor="end">%s, %s</text>`+"\n", svgWidth-10, y, esc(unit), better)
		y += 8

		top := 0.0
		for _, k := range rep.Servers {
			if c := rep.Cell(sc.Name, k); c != nil && c.Summary != nil {
				top = max(top, c.Summary.Rate.Max, c.Summary.Rate.Median)
			}
		}
		if top <= 0 {
			top = 1
		}
		scale := func(v float64) float64 { return float64(svgBarX) + v/top*float64(svgBarW) }
		barsTop := y
		for _, k := range rep.Servers {
			c := rep.Cell(sc.Name, k)
			if c == nil {
				continue
			}
			mid := y + svgBarH/2
			fmt.Fprintf(&body, `<text x="%d" y="%d" font-size="12" text-anchor="end" dominant-baseline="middle">%s</text>`, svgLabelW, mid, esc(k))
			s := c.Summary
			if s == nil {
				fmt.Fprintf(&body, `<text x="%d" y="%d" font-size="12" fill="#c00" dominant-baseline="middle">failed</text>`+"\n", svgBarX, mid)
				y += svgBarH + svgBarGap
				continue
			}
			x1 := scale(s.Rate.Median)
			fmt.Fprintf(&body, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, svgBarX, y, x1-svgBarX, svgBarH, colorOf(k))
			lo, hi := scale(s.Rate.Min), scale(s.Rate.Max)
			fmt.Fprintf(&body, `<path d="M%.1f %dH%.1fM%.1f %dV%dM%.1f %dV%d" stroke="#222" stroke-width="1.2" fill="none"/>`,
				lo, mid, hi, lo, mid-4, mid+4, hi, mid-4, mid+4)
			label := count(s.Rate.Median)
			if sc.Mode == ModeIdle {
				label = kib(s.Rate.Median)
			}
			if s.Ratio != nil {
				label += fmt.Sprintf(" · %.2f× gnet", s.Ratio.Median)
			}
			fmt.Fprintf(&body, `<text x="%d" y="%d" font-size="12" dominant-baseline="middle">%s</text>`+"\n", svgValueX, mid, esc(label))
			y += svgBarH + svgBarGap
		}
		fmt.Fprintf(&body, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`+"\n", svgBarX, barsTop, svgBarX, y-svgBarGap)
		y += svgPanelGY - svgBarGap
	}
	y += 10

	_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">
<rect width="100%%" height="100%%" fill="#fff"/>
%s</svg>
`, svgWidth, y, svgWidth, y, body.String())
	return err
}
