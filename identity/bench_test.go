package identity

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wapipe/wapipe/state"
)

// benchContacts is the number of contacts preloaded before timing:
// WAPIPE_BENCH_CONTACTS (default 100000; the target is 1000000).
func benchContacts() int {
	if n, err := strconv.Atoi(os.Getenv("WAPIPE_BENCH_CONTACTS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// userFacts is a typical inbound message of user i: BSUID, phone, username, name. Its
// strings share one allocation so that building events costs little of the time.
func userFacts(i int, at int64) Facts {
	var b [80]byte
	s := string(strconv.AppendInt(strconv.AppendInt(strconv.AppendInt(
		append(b[:0], "US.1"...), int64(i), 10), 15_550_000_000+int64(i), 10), int64(i), 10)) // US.1<i><phone><i>
	id := len(s) - 4 - 11 // the digits of i, written twice
	id /= 2
	bsuid, phone := s[:4+id], s[4+id:4+id+11]
	return Facts{Tenant: "bench", At: at, BSUID: bsuid, Phone: phone, Username: "@u" + bsuid[3:], ProfileName: "User"}
}

// preload opens a store with n contacts, each created by one event.
func preload(b *testing.B, n int, cfg Config) *Store {
	db := openDB(b, b.TempDir())
	if cfg.State == nil && cfg.CacheContacts == workerConfig.CacheContacts {
		cfg.State = state.Open(db) // the worker's shape: checkpointed by the caller
	}
	s := NewWithConfig(db, cfg)
	fs := make([]Facts, 0, 4096)
	for i := 0; i < n; i++ {
		fs = append(fs, userFacts(i, 1_700_000_000))
		if len(fs) == cap(fs) || i == n-1 {
			if _, err := s.ResolveBatch(fs); err != nil {
				b.Fatal(err)
			}
			fs = fs[:0]
		}
	}
	return s
}

// BenchmarkResolve times events against a store of benchContacts contacts; ns/event is
// the figure to read (an op is one ResolveBatch call). Times always move forward, so
// with SeenStep 0 every event writes. "hot" draws users from 10k recent
// conversations, "uniform" from all of them (the cache misses for most once contacts
// outnumber it). batch256 puts 256 events in one transaction, as the pipeline does with
// a fetched batch. "conversation" sends each user's events as a burst (message, then
// sent, delivered and read statuses, a second apart); step60 sets SeenStep to a minute.
func BenchmarkResolve(b *testing.B) {
	n := benchContacts()
	s := preload(b, n, Config{})
	if os.Getenv("WAPIPE_BENCH_FLATTEN") != "" {
		if err := s.st.DB().Flatten(2); err != nil { // settle the preload's compaction backlog
			b.Fatal(err)
		}
	}
	reportMemory(b, s)
	hot := min(n, 10_000)
	at := int64(1_700_100_000) // shared: every case must be newer than the last
	for _, tc := range []struct {
		name                string
		users, batch, burst int
		step                int64
	}{
		{"hot", hot, 1, 1, 0}, {"uniform", n, 1, 1, 0},
		{"hot/batch256", hot, 256, 1, 0}, {"uniform/batch256", n, 256, 1, 0},
		{"conversation/batch256", hot, 256, 4, 0}, {"conversation/batch256/step60", hot, 256, 4, 60},
	} {
		b.Run(fmt.Sprintf("%s/contacts=%d", tc.name, n), func(b *testing.B) {
			s.step = tc.step
			rng := rand.New(rand.NewPCG(1, 2))
			at += 1_000_000_000
			fs := make([]Facts, tc.batch)
			var user int
			b.ReportAllocs()
			events, cpu0 := 0, cpuTime()
			for b.Loop() {
				for i := range fs {
					if (events+i)%tc.burst == 0 {
						user, at = rng.IntN(tc.users), at+1
					}
					fs[i] = conversationEvent(user, at+int64((events+i)%tc.burst), (events+i)%tc.burst)
				}
				if _, err := s.ResolveBatch(fs); err != nil {
					b.Fatal(err)
				}
				events += len(fs)
			}
			reportPerEvent(b, events, cpu0)
		})
	}
}

// reportPerEvent reports wall and CPU (all goroutines: Badger's writer, GC) time per
// event. CPU time is the steadier figure when other processes share the machine.
func reportPerEvent(b *testing.B, events int, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(events), "cpu-ns/event")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// conversationEvent is the k-th event of a burst: the inbound message carries
// everything, the sent status only the BSUID, delivered and read add the username.
func conversationEvent(user int, at int64, k int) Facts {
	f := userFacts(user, at)
	switch k % 4 {
	case 1:
		f.Phone, f.Username, f.ProfileName = "", "", ""
	case 2, 3:
		f.Phone, f.ProfileName = "", ""
	}
	return f
}

// BenchmarkResolveNew times events of users never seen: each creates a contact and
// three keys.
func BenchmarkResolveNew(b *testing.B) {
	n := benchContacts()
	s := preload(b, n, Config{})
	for _, batch := range []int{1, 256} {
		b.Run(fmt.Sprintf("batch%d/contacts=%d", batch, n), func(b *testing.B) {
			fs := make([]Facts, batch)
			b.ReportAllocs()
			events, cpu0 := 0, cpuTime()
			for b.Loop() {
				for i := range fs {
					fs[i] = userFacts(n+events+i, 1_700_000_200)
				}
				if _, err := s.ResolveBatch(fs); err != nil {
					b.Fatal(err)
				}
				events += len(fs)
			}
			n += events
			reportPerEvent(b, events, cpu0)
		})
	}
}

// reportMemory reports the Go heap and the process RSS after the preload.
func reportMemory(b *testing.B, s *Store) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rss := 0.0
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		if i := bytes.Index(status, []byte("VmRSS:")); i >= 0 {
			fmt.Sscan(string(status[i+6:]), &rss)
		}
	}
	var disk int64
	filepath.WalkDir(s.st.DB().Opts().Dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				if st, ok := info.Sys().(*syscall.Stat_t); ok {
					disk += st.Blocks * 512 // allocated, not apparent: the value log is sparse
				}
			}
		}
		return nil
	})
	b.Logf("after preload: heap in use %.0f MB, RSS %.0f MB, Badger files %.0f MB",
		float64(m.HeapInuse)/1e6, rss/1e3, float64(disk)/1e6)
}

// WorkerConfig is the store as `wapipe run` configures it (cmd/wapipe/run.go).
var workerConfig = Config{CacheContacts: 25_000, LastSeenStep: time.Minute}

// BenchmarkResolveAsWorker times events the way the process stage sends them: one
// Resolve call per event on a shared state, checkpointed every 256 events (a batch), with
// the worker's cache size and last_seen step.
func BenchmarkResolveAsWorker(b *testing.B) {
	n := benchContacts()
	s := preload(b, n, workerConfig)
	checkpoint(b, s)
	if os.Getenv("WAPIPE_BENCH_FLATTEN") != "" {
		if err := s.st.DB().Flatten(2); err != nil { // settle the preload's compaction backlog
			b.Fatal(err)
		}
	}
	reportMemory(b, s)
	at := int64(1_700_100_000)
	for _, tc := range []struct {
		name         string
		users, burst int
	}{{"conversation", min(n, 10_000), 4}, {"hot", min(n, 10_000), 1}, {"uniform", n, 1}} {
		b.Run(fmt.Sprintf("%s/contacts=%d", tc.name, n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			at += 1_000_000_000
			var user int
			b.ReportAllocs()
			events, cpu0 := 0, cpuTime()
			for b.Loop() {
				if events%tc.burst == 0 {
					user, at = rng.IntN(tc.users), at+61 // a minute apart: each burst writes
				}
				if _, err := s.Resolve(conversationEvent(user, at+int64(events%tc.burst), events%tc.burst)); err != nil {
					b.Fatal(err)
				}
				if events++; events%256 == 0 {
					checkpoint(b, s)
				}
			}
			reportPerEvent(b, events, cpu0)
		})
	}
}
