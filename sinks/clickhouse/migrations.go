package clickhouse

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/wapipe/wapipe/schemas"
)

// Migration is one file of schemas/migrations.
type Migration struct {
	Version    uint32
	Name       string   // the file name without .sql, e.g. "001_chat_report"
	Statements []string // in file order, with {database} standing for the target database
}

var fileRe = regexp.MustCompile(`^([0-9]+)_[a-z0-9_]+\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) { return loadMigrations(schemas.Migrations, "migrations") }

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[uint32]string{}
	for _, e := range entries {
		m := fileRe.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("clickhouse: migration file %s: want NNN_name.sql", e.Name())
		}
		v, err := strconv.ParseUint(m[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: migration file %s: %w", e.Name(), err)
		}
		if other, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("clickhouse: migrations %s and %s share version %d", other, e.Name(), v)
		}
		seen[uint32(v)] = e.Name()
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		stmts := splitStatements(string(text))
		if len(stmts) == 0 {
			return nil, fmt.Errorf("clickhouse: migration file %s has no statement", e.Name())
		}
		out = append(out, Migration{Version: uint32(v), Name: strings.TrimSuffix(e.Name(), ".sql"), Statements: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// splitStatements splits SQL text on the semicolons that end statements: not those inside quotes
// ('...', "...", `...`) or comments (-- to end of line, /* ... */). Comments are dropped, so a file may
// be commented freely and a trailing semicolon is optional.
func splitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			cur.WriteByte('\n')
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 3
			}
			cur.WriteByte(' ')
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(sql) && sql[j] != c {
				if sql[j] == '\\' {
					j++ // a backslash escapes the next byte, quotes included
				}
				j++
			}
			cur.WriteString(sql[i:min(j+1, len(sql))])
			i = j
		case c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}
