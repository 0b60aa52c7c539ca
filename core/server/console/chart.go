package console

import (
	"fmt"
	"strings"
)

// chart is a small bar chart of records per day, drawn as inline SVG on the
// server: no script, no image request, and the numbers are in the markup
// (aria-label and a <title> per bar) for screen readers and tooltips.
type chart struct {
	Width, Height int
	Bars          []chartBar
	// Label summarises the whole chart in words.
	Label string
	Empty bool
}

type chartBar struct {
	X, Y, W, H int
	// LabelX centres the day label under the bar.
	LabelX  int
	Day     string
	Title   string
	Records int64
}

const (
	chartBarWidth = 28
	chartGap      = 8
	chartPlot     = 60 // height of the bars' area
	chartAxis     = 16 // room for the day labels
)

// barChart lays out one bar per day; the tallest bar fills the plot. A day
// with records always gets a visible bar, however small beside the others.
func barChart(days []DayCount) chart {
	c := chart{Height: chartPlot + chartAxis, Empty: true}
	var peak int64
	for _, d := range days {
		peak = max(peak, d.Records)
	}
	var words []string
	for i, d := range days {
		h := 0
		if peak > 0 {
			h = int(d.Records * chartPlot / peak)
			if d.Records > 0 && h < 2 {
				h = 2
			}
		}
		if d.Records > 0 {
			c.Empty = false
		}
		x := i * (chartBarWidth + chartGap)
		day := d.Day.Format("Mon")
		date := d.Day.Format("Jan 2")
		c.Bars = append(c.Bars, chartBar{
			X: x, Y: chartPlot - h, W: chartBarWidth, H: h, LabelX: x + chartBarWidth/2,
			Day: day, Records: d.Records, Title: fmt.Sprintf("%s: %s records", date, fmtCount(d.Records)),
		})
		words = append(words, fmt.Sprintf("%s %s", date, fmtCount(d.Records)))
	}
	if n := len(days); n > 0 {
		c.Width = n*(chartBarWidth+chartGap) - chartGap
	}
	c.Label = "Records per day: " + strings.Join(words, ", ")
	return c
}
