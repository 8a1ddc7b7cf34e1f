package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docker-compose.yml publishes nothing beyond the host's loopback, connects to Kafka with SASL
// over TLS and to ClickHouse with a user, and gives every secret as a file, never as a value.
func TestDockerComposeIsSecuredAsADeploymentWouldBe(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	workers := 0
	for name, s := range doc.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond the host: give it as 127.0.0.1:HOST:CONTAINER", name, p)
			}
		}
		for k, v := range s.Environment {
			if strings.HasSuffix(k, "_PASSWORD") || strings.HasSuffix(k, "_TOKEN") || strings.HasSuffix(k, "_SECRET") {
				t.Errorf("%s sets the secret %s=%q as a value: give %s_FILE", name, k, v, k)
			}
		}
		env := s.Environment
		if env["WAPIPE_BROKERS"] == "" {
			continue
		}
		workers++
		for _, want := range []string{"WAPIPE_KAFKA_TLS_CA", "WAPIPE_KAFKA_SASL", "WAPIPE_KAFKA_PASSWORD_FILE",
			"WAPIPE_CLICKHOUSE_USERNAME", "WAPIPE_CLICKHOUSE_PASSWORD_FILE", "WAPIPE_API_TOKEN_FILE"} {
			if env[want] == "" {
				t.Errorf("%s: no %s", name, want)
			}
		}
		if len(s.Secrets) == 0 {
			t.Errorf("%s mounts no secrets", name)
		}
	}
	if workers < 2 {
		t.Errorf("%d wapipe services with Kafka settings, want the migrate step and the workers", workers)
	}
	for name, s := range doc.Secrets {
		if !strings.HasPrefix(s.File, "./secrets/") {
			t.Errorf("secret %s is not a file of ./secrets (scripts/compose-secrets.sh): %q", name, s.File)
		}
	}
}
