package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// prometheus is a real Prometheus (Debian's package) scraping workers every second, so
// that the dashboard's queries run against what a deployment would store.
type prometheus struct {
	t    *testing.T
	addr string
}

// startPrometheus scrapes the targets as job "wapipe" (the job deploy/prometheus names);
// it skips the test when Prometheus is not installed (make tools installs it).
func startPrometheus(t *testing.T, targets ...string) *prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus is missing (make tools installs it)")
		}
		t.Skip("prometheus not installed (make tools installs it)")
	}
	dir := t.TempDir()
	quoted, _ := json.Marshal(targets)
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"+
		"scrape_configs:\n  - job_name: wapipe\n    static_configs: [{targets: %s}]\n", quoted)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &prometheus{t: t, addr: opsPort(t)}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+p.addr, "--log.level=warn")
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); log.Close() })
	waitFor(t, 30*time.Second, "Prometheus to answer", func() bool {
		_, err := httpGet("http://" + p.addr + "/-/ready")
		return err == nil
	})
	return p
}

// opsPort is a free loopback port in this helper's own range (19400-19499).
func opsPort(t *testing.T) string {
	t.Helper()
	for port := 19400; port < 19500; port++ {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port in 19400-19499")
	return ""
}

// series is one result of a query: its labels and its points (unix seconds, value).
type series struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`  // an instant query's point
	Values [][]any           `json:"values"` // a range query's points
}

// query runs an instant PromQL query; an error says the query is not valid PromQL.
func (p *prometheus) query(expr string) ([]series, error) {
	return p.api("/api/v1/query?query=" + url.QueryEscape(expr))
}

// queryRange runs expr from start to end with one point every step.
func (p *prometheus) queryRange(expr string, start, end time.Time, step time.Duration) ([]series, error) {
	return p.api(fmt.Sprintf("/api/v1/query_range?query=%s&start=%d&end=%d&step=%g", url.QueryEscape(expr),
		start.Unix(), end.Unix(), step.Seconds()))
}

func (p *prometheus) api(path string) ([]series, error) {
	body, err := httpGet("http://" + p.addr + path)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []series `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return nil, fmt.Errorf("%s: %w", body, err)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("%s", resp.Error)
	}
	return resp.Data.Result, nil
}
