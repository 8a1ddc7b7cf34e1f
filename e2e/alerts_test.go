package e2e

import (
	"os"
	"os/exec"
	"testing"

	"gopkg.in/yaml.v3"
)

const alertsFile = "../deploy/prometheus/alerts.yml"

// alertRule is one rule of deploy/prometheus/alerts.yml.
type alertRule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

// loadAlerts reads the alert rules; promtool, where installed, checks them and the
// Prometheus configuration that loads them.
func loadAlerts(t *testing.T) []alertRule {
	t.Helper()
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s holds no rule", alertsFile)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		for _, args := range [][]string{{"check", "rules", alertsFile}, {"check", "config", "../deploy/prometheus/prometheus.yml"}} {
			if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
				t.Errorf("promtool %v: %v\n%s", args, err, out)
			}
		}
	}
	return rules
}
