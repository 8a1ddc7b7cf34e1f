package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// A state directory whose files are corrupt (here its MANIFEST, as a disk fault or a
// half-copied volume leaves it) does not stop the worker for good, restarting and failing
// forever: the worker moves the directory aside (kept, for a post-mortem), starts with a
// fresh state, rebuilds the contacts from the identity topic and resolves them as before.
func TestCorruptStateIsMovedAsideAndRebuilt(t *testing.T) {
	const partitions, users = 2, 8
	e := newEnv(t, partitions)
	dir := filepath.Join(t.TempDir(), "state")
	w := e.startWorker(dir)
	waitFor(t, 2*time.Minute, "the worker ready", func() bool { return w.ready() == 200 })
	var msgs []kafka.Message
	for u := range users {
		msgs = append(msgs, inbound(u%partitions, u, 0, true, true))
	}
	e.producePartitions(msgs)
	waitFor(t, time.Minute, "the traffic durable", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL") == users
	})
	ids := map[int]string{} // user -> contact id, as the worker resolved it before the corruption
	knowsEveryone := func(w *worker) func() bool {
		return func() bool {
			for u := range users {
				c, ok := w.contact("username", userName(u))
				if !ok || c.Phone != userPhone(u) || (ids[u] != "" && c.ID != ids[u]) {
					return false
				}
				ids[u] = c.ID
			}
			return true
		}
	}
	waitFor(t, 30*time.Second, "the worker to resolve every user", knowsEveryone(w))
	w.stop(t)

	manifest := filepath.Join(dir, "MANIFEST")
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(manifest, b, 0o600); err != nil {
		t.Fatal(err)
	}

	w = e.startWorker(dir)
	waitFor(t, 2*time.Minute, "the worker on the corrupt state ready", func() bool {
		if !w.alive() {
			b, _ := os.ReadFile(w.logs)
			t.Fatalf("the worker exited on the corrupt state: %s", tail(string(b), 2000))
		}
		return w.ready() == 200
	})
	waitFor(t, 30*time.Second, "the rebuilt worker to resolve every user", knowsEveryone(w))
	aside, _ := filepath.Glob(dir + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("moved-aside state directories %v, want one", aside)
	}
	if _, err := os.Stat(filepath.Join(aside[0], "MANIFEST")); err != nil {
		t.Errorf("the corrupt state was not kept: %v", err)
	}
	if len(w.logGrep("corrupt")) == 0 {
		t.Errorf("no log line says the state was corrupt")
	}
}
