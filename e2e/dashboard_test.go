package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

const dashboardFile = "../deploy/grafana/dashboards/wapipe.json"

// dashboard is the part of Grafana's dashboard model the checks read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
}

type panel struct {
	ID         int                        `json:"id"`
	Type       string                     `json:"type"`
	Title      string                     `json:"title"`
	GridPos    struct{ H, W, X, Y int }   `json:"gridPos"`
	Datasource struct{ Type, UID string } `json:"datasource"`
	Targets    []struct {
		RefID  string `json:"refId"`
		Expr   string `json:"expr"`
		Legend string `json:"legendFormat"`
	} `json:"targets"`
}

// loadDashboard reads the dashboard and checks its shape: what Grafana needs to load it.
func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s is not JSON: %v", dashboardFile, err)
	}
	// The fields of Grafana's classic dashboard model (what a new dashboard starts with).
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(b, &fields)
	for _, f := range []string{"uid", "title", "tags", "timezone", "editable", "graphTooltip", "panels", "time",
		"timepicker", "templating", "annotations", "refresh", "schemaVersion", "version", "links"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("dashboard lacks %q of Grafana's dashboard model", f)
		}
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
		t.Fatalf("dashboard uid %q title %q schemaVersion %d, %d panels", d.UID, d.Title, d.SchemaVersion, len(d.Panels))
	}
	prov, err := os.ReadFile("../deploy/grafana/provisioning/datasources/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.Title == "" || (p.Type != "timeseries" && p.Type != "stat") || p.GridPos.W <= 0 || p.GridPos.H <= 0 ||
			p.GridPos.X+p.GridPos.W > 24 || len(p.Targets) == 0 {
			t.Errorf("panel %d %q: duplicate id, no title, unknown type %q, bad gridPos %+v or no targets", p.ID, p.Title, p.Type, p.GridPos)
		}
		ids[p.ID] = true
		if p.Datasource.Type != "prometheus" || !strings.Contains(string(prov), "uid: "+p.Datasource.UID+"\n") {
			t.Errorf("panel %q: data source %+v is not the provisioned Prometheus", p.Title, p.Datasource)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] || tg.Expr == "" {
				t.Errorf("panel %q: target %+v lacks a unique refId or an expr", p.Title, tg)
			}
			refs[tg.RefID] = true
		}
	}
	return d
}

// metricName finds the metric names in a PromQL expression: the worker's own series and
// the Go runtime's and process's, which it exports too.
var metricName = regexp.MustCompile(`\b(?:wapipe|go|process)_[a-z0-9_]+\b`)

// prometheusOwn are series Prometheus makes itself (not on the worker's /metrics).
var prometheusOwn = regexp.MustCompile(`\bup\{`)

// exported lists the sample names on a worker's /metrics page.
func exported(page string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(page, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	return names
}

// The dashboard loads (its structure), and every query it holds, and every alert rule's,
// names only metrics that a real worker exports, after a run with dead letters and a
// ClickHouse outage (so that the labelled series exist). Where Prometheus is installed, it
// scrapes that worker and every dashboard query is valid PromQL that returns data (every
// alert's is valid); with WAPIPE_DASHBOARD_PICTURE=path the run is longer and the
// dashboard is drawn into a picture (docs/dashboard.png).
func TestDashboardQueriesNameExportedMetrics(t *testing.T) {
	d := loadDashboard(t)
	alerts := loadAlerts(t)
	e := newEnv(t, 2)
	proxy := withClickHouseProxy(t, e)
	picture := os.Getenv("WAPIPE_DASHBOARD_PICTURE")
	w := e.startWorker(t.TempDir())
	var prom *prometheus
	if _, err := exec.LookPath("prometheus"); err == nil || os.Getenv("CI") != "" {
		prom = startPrometheus(t, w.http)
	}
	began := time.Now()
	r := runTraffic(t, e, w, proxy, picture != "")

	page, err := httpGet("http://" + w.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	have := exported(page)
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			names := metricName.FindAllString(tg.Expr, -1)
			if len(names) == 0 && !prometheusOwn.MatchString(tg.Expr) {
				t.Errorf("panel %q: %q names no metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				if !have[n] {
					t.Errorf("panel %q: %s is not on the worker's /metrics", p.Title, n)
				}
			}
		}
	}
	for _, a := range alerts {
		names := metricName.FindAllString(a.Expr, -1)
		if len(names) == 0 && !prometheusOwn.MatchString(a.Expr) {
			t.Errorf("alert %s: %q names no metric", a.Alert, a.Expr)
		}
		for _, n := range names {
			if !have[n] {
				t.Errorf("alert %s: %s is not on the worker's /metrics", a.Alert, n)
			}
		}
	}
	if prom == nil {
		return
	}
	for _, a := range alerts {
		if _, err := prom.query(a.Expr); err != nil {
			t.Errorf("alert %s: %q: %v", a.Alert, a.Expr, err)
		}
	}
	time.Sleep(3 * time.Second) // a few more scrapes after the last change
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			res, err := prom.query(tg.Expr)
			if err != nil {
				t.Errorf("panel %q: %q: %v", p.Title, tg.Expr, err)
			} else if len(res) == 0 {
				t.Errorf("panel %q: %q returned no series after the run", p.Title, tg.Expr)
			}
		}
	}
	if picture != "" {
		drawPicture(t, prom, d, began, time.Now(), r, picture)
	}
}

// run is what the traffic did, for the picture's captions.
type run struct {
	outageFrom, outageTo time.Time
	records              int
}

// runTraffic produces webhooks (2% poison) in waves, with a ClickHouse outage in the
// middle during which waves keep coming, and waits until everything is committed. long
// makes it last about two minutes.
func runTraffic(t *testing.T, e *env, w *worker, proxy interface {
	Cut()
	Restore() error
}, long bool) run {
	t.Helper()
	waves, pause, outage := 3, time.Second, 6*time.Second
	if long {
		waves, pause, outage = 12, 8*time.Second, 30*time.Second
	}
	msgs, _ := generate(waves*1_000, 31, 0.02)
	per := len(msgs) / waves
	var r run
	r.records = len(msgs)
	restore := func() {
		time.Sleep(time.Until(r.outageFrom.Add(outage)))
		if err := proxy.Restore(); err != nil {
			t.Fatal(err)
		}
		r.outageTo = time.Now()
	}
	for i := 0; i < waves; i++ {
		e.produce(msgs[i*per : (i+1)*per])
		time.Sleep(pause)
		switch {
		case i == waves/3:
			proxy.Cut()
			r.outageFrom = time.Now()
		case r.outageTo.IsZero() && !r.outageFrom.IsZero() && time.Since(r.outageFrom) >= outage:
			restore()
		}
	}
	if r.outageTo.IsZero() {
		restore()
	}
	waitFor(t, 120*time.Second, "every record committed", func() bool { return e.committed("wapipe", 2) == int64(waves*per) })
	waitFor(t, 10*time.Second, "the lag to read 0", func() bool { return w.metricSum("wapipe_consumer_lag") == 0 })
	return r
}
