// Command gateway is the load generator of wapipe gateway: it posts signed webhook bodies of
// a given size from concurrent keep-alive connections for a fixed time and reports requests/s
// and latency percentiles (each request counts from its first byte sent to its answer read,
// and is answered 200 only once the broker acknowledged the write).
//
// Without --url it starts `wapipe broker` (the embedded broker) and `wapipe gateway` from
// --binary on loopback, runs each --sizes, and stops them:
//
//	go build -o bin/wapipe ./cmd/wapipe && go run ./bench/gateway --binary bin/wapipe
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wapipe/wapipe/gateway"
)

const secret = "bench-app-secret"

func main() {
	binary := flag.String("binary", "bin/wapipe", "the wapipe binary to start the broker and gateway from (without --url)")
	url := flag.String("url", "", "a running gateway's /webhook URL (signed with --secret); empty: start broker and gateway")
	sec := flag.String("secret", secret, "app secret to sign with (with --url)")
	sizes := flag.String("sizes", "1024,102400", "body sizes in bytes, comma-separated")
	conc := flag.Int("concurrency", 32, "concurrent connections")
	dur := flag.Duration("duration", 15*time.Second, "measured time per size")
	warm := flag.Duration("warmup", 3*time.Second, "unmeasured time before each size")
	flag.Parse()

	target, signWith := *url, *sec
	if target == "" {
		stop, u, err := start(*binary)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/gateway:", err)
			os.Exit(1)
		}
		defer stop()
		target, signWith = u, secret
	}
	fmt.Printf("| body | concurrency | requests | requests/s | MB/s | p50 | p90 | p99 | max | non-200 |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 400 {
			fmt.Fprintf(os.Stderr, "bench/gateway: size %q: give bytes, at least 400\n", s)
			os.Exit(2)
		}
		bodies := makeBodies(n, 16)
		sigs := make([]string, len(bodies))
		for i, b := range bodies {
			sigs[i] = gateway.Sign(signWith, b)
		}
		run(target, bodies, sigs, *conc, *warm) // warm-up: connections, batches, the broker's first segments
		r := run(target, bodies, sigs, *conc, *dur)
		secs := r.elapsed.Seconds()
		fmt.Printf("| %s | %d | %d | %.0f | %.1f | %s | %s | %s | %s | %d |\n", human(n), *conc, len(r.lat),
			float64(len(r.lat))/secs, float64(len(r.lat))*float64(n)/secs/1e6,
			ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), ms(r.pct(100)), r.failed)
	}
}

type result struct {
	lat     []time.Duration // of the 200s
	failed  int
	elapsed time.Duration
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p/100+0.5) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

// run posts from conc goroutines (one keep-alive connection each) for d.
func run(url string, bodies [][]byte, sigs []string, conc int, d time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var mu sync.Mutex
	var all result
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var lat []time.Duration
			failed := 0
			for i := g; time.Now().Before(deadline); i++ {
				b := bodies[i%len(bodies)]
				req, _ := http.NewRequest("POST", url, strings.NewReader(string(b)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(gateway.SignatureHeader, sigs[i%len(bodies)])
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all.lat = append(all.lat, lat...)
			all.failed += failed
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	sort.Slice(all.lat, func(i, j int) bool { return all.lat[i] < all.lat[j] })
	return all
}

// makeBodies returns k inbound text webhooks of exactly n bytes, each from another business
// number (so they spread over the partitions as real traffic does), padded in the text body.
func makeBodies(n, k int) [][]byte {
	out := make([][]byte, k)
	for i := range out {
		pad := ""
		for {
			b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
				"id": "10229012934" + strconv.Itoa(1000+i), "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]string{"display_phone_number": "1555078" + strconv.Itoa(1000+i), "phone_number_id": "10654035224" + strconv.Itoa(1000+i)},
					"contacts":          []any{map[string]any{"profile": map[string]string{"name": "Bench"}, "wa_id": "57301555" + strconv.Itoa(1000+i), "user_id": "CO.1883009221174665" + strconv.Itoa(1000+i)}},
					"messages": []any{map[string]any{"from": "57301555" + strconv.Itoa(1000+i), "id": "wamid.bench" + strconv.Itoa(i),
						"timestamp": "1781004601", "type": "text", "text": map[string]string{"body": pad}}},
				}}}}}})
			if len(b) >= n {
				out[i] = b
				break
			}
			pad += strings.Repeat("x", n-len(b))
		}
	}
	return out
}

// start runs wapipe broker and wapipe gateway on free loopback ports.
func start(binary string) (stop func(), url string, err error) {
	brokerAddr, gwAddr := freeAddr(), freeAddr()
	broker := exec.Command(binary, "broker", "--addr", brokerAddr, "--partitions", "6")
	broker.Stderr = os.Stderr
	if err := broker.Start(); err != nil {
		return nil, "", err
	}
	gw := exec.Command(binary, "gateway", "--brokers", brokerAddr, "--listen", gwAddr, "--log-level", "warn")
	gw.Env = append(os.Environ(), "WAPIPE_APP_SECRET="+secret)
	gw.Stderr = os.Stderr
	if err := gw.Start(); err != nil {
		_ = broker.Process.Kill()
		return nil, "", err
	}
	stop = func() {
		for _, c := range []*exec.Cmd{gw, broker} {
			_ = c.Process.Signal(os.Interrupt)
			_ = c.Wait()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get("http://" + gwAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, "http://" + gwAddr + "/webhook", nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return nil, "", fmt.Errorf("the gateway on %s was not ready within 30 s", gwAddr)
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func human(n int) string {
	if n%1024 == 0 {
		return strconv.Itoa(n/1024) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
