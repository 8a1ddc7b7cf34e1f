package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// The config file (--config FILE, or WAPIPE_CONFIG): YAML whose keys are flag names and whose
// values are what the flag would be given, for deployments that would rather not set twenty
// environment variables:
//
//	brokers: [k1:9092, k2:9092]   # a list is joined with commas
//	clickhouse: ch1:9000
//	state-dir: /var/lib/wapipe
//	batch-age: 2s
//	migrate: false
//
// One file can serve every command: a command takes the keys that are its flags and leaves the
// others (migrate has no state-dir); a key that is no flag of any command is an error naming it.
// Precedence: flags > environment > config file > defaults.

const configFlag = "config"

// errCollected stops a command's parse once collectFlags has recorded its flags.
var errCollected = errors.New("flags collected")

var (
	// flagCollector, while set, makes parse record the command's flags and return errCollected.
	flagCollector func(fs *flag.FlagSet)
	// allCommands is commands (set in init: commands refers, through parse, to this file).
	allCommands   func() map[string]command
	everyFlagOnce sync.Once
	everyFlag     map[string]bool
)

func init() { allCommands = func() map[string]command { return commands } }

// knownFlags is the set of flag names of every command, found by building each command's
// flags: whatever flags a command gains, its config keys follow.
func knownFlags() map[string]bool {
	everyFlagOnce.Do(func() {
		names := map[string]bool{}
		flagCollector = func(fs *flag.FlagSet) { fs.VisitAll(func(f *flag.Flag) { names[f.Name] = true }) }
		defer func() { flagCollector = nil }()
		for _, cmd := range allCommands() {
			_ = cmd(context.Background(), nil)
		}
		everyFlag = names
	})
	return everyFlag
}

// loadConfig reads a config file into flag name → value text.
func loadConfig(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	out := map[string]string{}
	if len(doc.Content) == 0 || len(bytes.TrimSpace(b)) == 0 {
		return out, nil // an empty file sets nothing
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config %s: want a mapping of flag names to values (state-dir: /var/lib/wapipe)", path)
	}
	known := knownFlags()
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		key := k.Value
		switch {
		case key == configFlag:
			return nil, fmt.Errorf("config %s:%d: a config file cannot name another (key %q)", path, k.Line, key)
		case !known[key]:
			return nil, fmt.Errorf("config %s:%d: unknown key %q: no wapipe command has a --%s flag%s", path, k.Line, key, key, suggest(key, known))
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("config %s:%d: key %q given twice", path, k.Line, key)
		}
		text, err := scalarText(v)
		if err != nil {
			return nil, fmt.Errorf("config %s:%d: %s: %v", path, v.Line, key, err)
		}
		out[key] = text
	}
	return out, nil
}

// scalarText is the flag text of a value: a scalar as written, a list of scalars joined with commas.
func scalarText(v *yaml.Node) (string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "", nil
		}
		return v.Value, nil
	case yaml.SequenceNode:
		parts := make([]string, 0, len(v.Content))
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return "", errors.New("a list holds plain values only")
			}
			parts = append(parts, e.Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", errors.New("want a value or a list of values, not a mapping")
}

// suggest names the flag a mistyped key probably meant (state_dir, statedir → state-dir).
func suggest(key string, known map[string]bool) string {
	norm := func(s string) string {
		return strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(s))
	}
	var hits []string
	for k := range known {
		if norm(k) == norm(key) {
			hits = append(hits, k)
		}
	}
	if len(hits) == 0 {
		return ""
	}
	sort.Strings(hits)
	return fmt.Sprintf(" (did you mean %s?)", strings.Join(hits, " or "))
}
