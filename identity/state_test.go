package identity

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/model"
)

// rowKey is the ReplacingMergeTree key of an identities or contact_keys row.
func rowKey(r model.Row) string {
	v := r.Values()
	s := func(i int) string { return *v[i].(*string) }
	if r.Table() == "identities" {
		return fmt.Sprint("identities|", s(0), "|", s(1))
	}
	return fmt.Sprint("contact_keys|", s(0), "|", s(1), "|", s(2))
}

// rowString prints a row's values with pointers followed.
func rowString(r model.Row) string {
	var b strings.Builder
	for _, v := range r.Values() {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				v = "NULL"
			} else {
				v = rv.Elem().Interface()
			}
		}
		fmt.Fprintf(&b, "%v|", v)
	}
	return b.String()
}

// dump returns the rows of the store's current state, sorted by key, after checking
// that the key index and the contacts' key lists agree.
func dump(t *testing.T, s *Store) []string {
	t.Helper()
	var rows []model.Row
	index := map[string]string{} // "tenant|type|normalized value" -> contact id
	lists := map[string]string{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key())
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if strings.HasPrefix(k, prefix+"m/") || strings.HasPrefix(k, dirtyPfx) {
				continue // the merge index and the dirty records hold no state of their own
			}
			if rest, ok := strings.CutPrefix(k, indexPfx); ok {
				value, tn, _ := strings.Cut(rest[1:], "\x00")
				index[tn+"|"+typeOf(rest[0])+"|"+value] = string(v)
				continue
			}
			tn, id, _ := strings.Cut(strings.TrimPrefix(k, contactPfx), "\x00")
			r, err := decode(tn, id, v)
			if err != nil {
				return err
			}
			rows = append(rows, r.row())
			for i := range r.keys {
				kr := r.keyRow(&r.keys[i])
				rows = append(rows, &kr)
				lists[tn+"|"+typeOf(r.keys[i].code)+"|"+normalize(r.keys[i].code, r.keys[i].value)] = id
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(index, lists) {
		t.Fatalf("index and key lists disagree:\nindex %v\nlists %v", index, lists)
	}
	return sortedRows(rows)
}

func sortedRows(rows []model.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = rowKey(r) + " => " + rowString(r)
	}
	sort.Strings(out)
	return out
}

// replay keeps the newest version of every row, as ReplacingMergeTree does, and fails
// if a row's version does not grow or two different rows share a version.
func replay(t *testing.T, rs []Resolution) []string {
	t.Helper()
	latest := map[string]model.Row{}
	for _, res := range rs {
		for _, r := range res.Changed {
			k := rowKey(r)
			if old, ok := latest[k]; ok && version(old) >= version(r) {
				t.Fatalf("%s: version %d after %d", k, version(r), version(old))
			}
			latest[k] = r
		}
	}
	rows := make([]model.Row, 0, len(latest))
	for _, r := range latest {
		rows = append(rows, r)
	}
	return sortedRows(rows)
}

func resolveAll(t *testing.T, s *Store, fs []Facts) []Resolution {
	t.Helper()
	out := make([]Resolution, len(fs))
	for i, f := range fs {
		out[i] = resolve(t, s, f)
	}
	return out
}

func sameRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s differ (%d rows and %d):\nonly in got:\n%s\nonly in want:\n%s", what, len(got), len(want),
			strings.Join(missing(got, want), "\n"), strings.Join(missing(want, got), "\n"))
	}
}

// missing returns the lines of a that b lacks.
func missing(a, b []string) []string {
	in := map[string]int{}
	for _, l := range b {
		in[l]++
	}
	var out []string
	for _, l := range a {
		if in[l] > 0 {
			in[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}
