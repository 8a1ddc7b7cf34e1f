package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// tenantMap maps WhatsApp Business Account ids to tenants (business portfolios). A BSUID is
// unique per portfolio, so two WABAs of one portfolio must share identity.
type tenantMap map[string]string

func (m tenantMap) of(waba string) string {
	if t, ok := m[waba]; ok {
		return t
	}
	return waba
}

// loadTenantMap reads lines "WABA_ID TENANT" (or "WABA_ID=TENANT"); # starts a comment.
func loadTenantMap(path string) (tenantMap, error) {
	m := tenantMap{}
	if path == "" {
		return m, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tenant map: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.SplitN(sc.Text(), "#", 2)[0])
		if line == "" {
			continue
		}
		fields := strings.Fields(strings.ReplaceAll(line, "=", " "))
		if len(fields) != 2 {
			return nil, fmt.Errorf("tenant map %s:%d: want \"WABA_ID TENANT\", got %q", path, n, line)
		}
		m[fields[0]] = fields[1]
	}
	return m, sc.Err()
}
