package clickhouse

import (
	"slices"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"CREATE TABLE a (x String)", []string{"CREATE TABLE a (x String)"}},
		{"-- header; with a semicolon\nSELECT 1;\n\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT 'a;b', \"c;d\", `e;f` -- x;y\n; /* p;q */ SELECT 3", []string{"SELECT 'a;b', \"c;d\", `e;f`", "SELECT 3"}},
		{`SELECT 'it\'s;', 'a''b;c'`, []string{`SELECT 'it\'s;', 'a''b;c'`}},
		{"SELECT 1 - 2 /* unterminated", []string{"SELECT 1 - 2"}},
		{"  ;; -- nothing\n", nil},
	} {
		if got := splitStatements(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
