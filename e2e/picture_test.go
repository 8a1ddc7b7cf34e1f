package e2e

import (
	"fmt"
	"html"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// drawPicture renders every panel of the dashboard from Prometheus's record of the run as a
// static HTML page (inline SVG, the outage shaded) and screenshots it with headless
// Chromium into path: what Grafana would show, where Grafana cannot be installed.
func drawPicture(t *testing.T, prom *prometheus, d dashboard, from, to time.Time, r run, path string) {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("WAPIPE_DASHBOARD_PICTURE needs chromium: %v", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<html><head><meta charset="utf-8"><style>
body{background:#111217;color:#ccccdc;font:13px sans-serif;margin:12px}
h1{font-size:18px;margin:0 0 4px} p{margin:0 0 10px;color:#8e8e9e}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:8px}
.panel h2{font-size:13px;margin:0 0 4px;font-weight:600}
.legend span{margin-right:12px;white-space:nowrap} .legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
</style></head><body><h1>wapipe (deploy/grafana/dashboards/wapipe.json)</h1>
<p>Rendered from a real run: one worker (a -race build), %d webhooks (2%% poison) in waves, ClickHouse cut for %s (shaded), Prometheus scraping /metrics every second; %s to %s UTC.</p><div class="grid">`,
		r.records, r.outageTo.Sub(r.outageFrom).Round(time.Second), from.UTC().Format("15:04:05"), to.UTC().Format("15:04:05"))
	for _, p := range d.Panels {
		b.WriteString(drawPanel(t, prom, p, from, to, r))
	}
	b.WriteString(`</div></body></html>`)
	dir := t.TempDir()
	page := filepath.Join(dir, "dashboard.html")
	if err := os.WriteFile(page, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	height := 60 + ((len(d.Panels)+1)/2)*232
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--hide-scrollbars", "--user-data-dir="+filepath.Join(dir, "chromium"), "--window-size=1400,"+strconv.Itoa(height),
		"--screenshot="+abs, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	t.Logf("dashboard picture in %s (page %s)", abs, page)
}

var palette = []string{"#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#705da0"}

const plotW, plotH = 640.0, 160.0

// drawPanel is one panel: each target's series over the run as SVG polylines.
func drawPanel(t *testing.T, prom *prometheus, p panel, from, to time.Time, r run) string {
	type line struct {
		name string
		pts  [][2]float64
	}
	var lines []line
	top := 0.0
	for _, tg := range p.Targets {
		res, err := prom.queryRange(tg.Expr, from, to, 2*time.Second)
		if err != nil {
			t.Errorf("picture: %q: %v", tg.Expr, err)
			continue
		}
		for _, s := range res {
			l := line{name: legend(tg.Legend, s.Metric)}
			for _, v := range s.Values {
				ts, _ := v[0].(float64)
				y, err := strconv.ParseFloat(fmt.Sprint(v[1]), 64)
				if err != nil || math.IsNaN(y) || math.IsInf(y, 0) {
					continue
				}
				l.pts = append(l.pts, [2]float64{ts, y})
				top = math.Max(top, y)
			}
			lines = append(lines, l)
		}
	}
	if top == 0 {
		top = 1
	}
	span := to.Sub(from).Seconds()
	x := func(ts float64) float64 { return 40 + (ts-float64(from.Unix()))/span*(plotW-50) }
	y := func(v float64) float64 { return 10 + (1-v/top)*(plotH-30) }
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="panel"><h2>%s</h2><svg width="%g" height="%g">`, html.EscapeString(p.Title), plotW, plotH)
	fmt.Fprintf(&b, `<rect x="%.1f" y="10" width="%.1f" height="%g" fill="#f2495c" opacity="0.15"/>`,
		x(float64(r.outageFrom.Unix())), x(float64(r.outageTo.Unix()))-x(float64(r.outageFrom.Unix())), plotH-30)
	for _, f := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<line x1="40" x2="%g" y1="%.1f" y2="%.1f" stroke="#2c3235"/><text x="36" y="%.1f" fill="#8e8e9e" font-size="10" text-anchor="end">%s</text>`,
			plotW-10, y(f*top), y(f*top), y(f*top)+3, short(f*top))
	}
	fmt.Fprintf(&b, `<text x="40" y="%g" fill="#8e8e9e" font-size="10">%s</text><text x="%g" y="%g" fill="#8e8e9e" font-size="10" text-anchor="end">%s</text>`,
		plotH-4, from.UTC().Format("15:04:05"), plotW-10, plotH-4, to.UTC().Format("15:04:05"))
	for i, l := range lines {
		var pts []string
		for _, pt := range l.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(pt[0]), y(pt[1])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, palette[i%len(palette)], strings.Join(pts, " "))
	}
	b.WriteString(`</svg><div class="legend">`)
	for i, l := range lines {
		fmt.Fprintf(&b, `<span><i style="background:%s"></i>%s</span>`, palette[i%len(palette)], html.EscapeString(l.name))
	}
	b.WriteString(`</div></div>`)
	return b.String()
}

var legendLabel = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

// legend fills a Grafana legend format ({{label}}) from a series' labels.
func legend(format string, labels map[string]string) string {
	return legendLabel.ReplaceAllStringFunc(format, func(m string) string {
		return labels[legendLabel.FindStringSubmatch(m)[1]]
	})
}

// short writes an axis value briefly: 1.5k, 2M, 0.25.
func short(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
