package main

import (
	"crypto/subtle"
	"flag"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
)

// apiAccess says who may use the worker's /v1/ API (contacts: phones, usernames) and its
// /debug/pprof/ (contract section 7). /metrics, /healthz and /readyz are always open.
type apiAccess struct {
	token string // when set, every guarded request needs "Authorization: Bearer <token>"
	pprof bool   // serve /debug/pprof/
	// local: the listener is on a loopback address. Without a token, contact data is served
	// to the local host only: beyond it, /v1/ answers 403.
	local bool
}

// apiFlags adds --api-token, described by what (the token is a secret: WAPIPE_API_TOKEN),
// and --api-token-file.
func (c *common) apiFlags(fs *flag.FlagSet, what string) {
	fs.StringVar(&c.apiToken, "api-token", "", what+" (secret: prefer WAPIPE_API_TOKEN or --api-token-file)")
	fs.StringVar(&c.apiTokenFile, "api-token-file", "", "file holding the API token (content trimmed)")
}

// isLoopback says whether a listener's address reaches the local host only.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// guard lets a request through h only when access allows it.
func (a apiAccess) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case a.token != "":
			if !bearerIs(r.Header.Get("Authorization"), a.token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="wapipe"`)
				http.Error(w, "unauthorized: give 'Authorization: Bearer <token>' (the worker's --api-token)", http.StatusUnauthorized)
				return
			}
		case !a.local:
			http.Error(w, "forbidden: contact data is not served unauthenticated beyond the local host; start the worker with --api-token", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearerIs compares the header's token with want in constant time, so response timing says
// nothing about how much of a guess was right.
func bearerIs(header, want string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) == 1
}

// servePprof adds the profiles, when asked for, behind the guard. /debug/pprof/cmdline is left
// out: the command line may hold a secret given as a flag.
func (a apiAccess) servePprof(mux *http.ServeMux) {
	if !a.pprof {
		return
	}
	mux.Handle("/debug/pprof/", a.guard(http.HandlerFunc(pprof.Index)))
	mux.Handle("/debug/pprof/profile", a.guard(http.HandlerFunc(pprof.Profile)))
	mux.Handle("/debug/pprof/symbol", a.guard(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("/debug/pprof/trace", a.guard(http.HandlerFunc(pprof.Trace)))
}
