package decode

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wapipe/wapipe/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in schemas/testdata/golden from the decoder's output")

const (
	webhookDir = "../../schemas/testdata/webhooks"
	goldenDir  = "../../schemas/testdata/golden"
	sharedDir  = "../../../shared/webhooks/examples"
)

// TestGolden decodes every body in schemas/testdata/webhooks and compares the
// exact result (events, invalid events, body error) with its golden file.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(webhookDir, "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in %s: %v", webhookDir, err)
	}
	d := New(Config{TenantOf: testTenants})
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := render(d.Decode(body))
			path := filepath.Join(goldenDir, name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./stages/decode -run TestGolden -update, then review the file)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decode %s differs from %s\n--- got\n%s", in, path, got)
			}
		})
	}
}

// TestGoldenCoversSharedExamples makes sure every example in shared/ has an
// identical copy among the golden inputs, so a changed example is noticed.
func TestGoldenCoversSharedExamples(t *testing.T) {
	examples, _ := filepath.Glob(filepath.Join(sharedDir, "*.json"))
	if len(examples) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no examples in %s", sharedDir)
		}
		t.Skipf("no shared examples at %s", sharedDir)
	}
	for _, ex := range examples {
		want, _ := os.ReadFile(ex)
		got, err := os.ReadFile(filepath.Join(webhookDir, filepath.Base(ex)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: no identical copy in %s (%v)", ex, webhookDir, err)
		}
	}
}

// testTenants maps one test WABA to a named tenant, to show TenantOf at work.
func testTenants(waba string) string {
	if waba == "200000000000002" {
		return "tenant-acme"
	}
	return ""
}

// render writes a result as reviewable JSON: zero fields are left out (a nil
// pointer is zero, a pointer to false is not) and Kind is written by name.
func render(events []model.Event, invalid []model.Invalid, err error) []byte {
	out := map[string]any{}
	if err != nil {
		out["error"] = err.Error()
	}
	if len(events) > 0 {
		list := make([]any, len(events))
		for i := range events {
			list[i] = pruned(reflect.ValueOf(events[i]))
		}
		out["events"] = list
	}
	if len(invalid) > 0 {
		out["invalid"] = invalid
	}
	b, e := json.MarshalIndent(out, "", "  ")
	if e != nil {
		panic(e)
	}
	return append(b, '\n')
}

func pruned(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		return pruned(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); !f.IsZero() {
				m[v.Type().Field(i).Name] = pruned(f)
			}
		}
		return m
	}
	if k, ok := v.Interface().(model.Kind); ok {
		return k.String()
	}
	return v.Interface()
}
