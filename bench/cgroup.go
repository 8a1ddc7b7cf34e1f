package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memCgroup is a memory cgroup the worker runs in, as a container with a memory limit runs it.
//
// Why: Badger reads its tables through mmap, so every table page a compaction or a lookup touched
// counts in the worker's RSS for as long as the kernel has memory to spare; on a 24 GB machine it
// never needs to reclaim them, and VmHWM grows with the size of the state on disk. Under a limit
// the kernel reclaims those file pages first and kills the process only when its own memory does
// not fit, so a run that completes under --cgroup-memory-mb shows the worker fits in that much.
type memCgroup struct {
	dir string
	v2  bool
}

// newMemCgroup creates a child of this process's memory cgroup (v1 or v2) limited to limitMB.
func newMemCgroup(limitMB int) (*memCgroup, error) {
	parent, v2, err := ownMemoryCgroup()
	if err != nil {
		return nil, err
	}
	g := &memCgroup{dir: filepath.Join(parent, fmt.Sprintf("wapipe-bench-%d", os.Getpid())), v2: v2}
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create memory cgroup (needs root): %w", err)
	}
	limitFile := "memory.limit_in_bytes"
	if v2 {
		limitFile = "memory.max"
	}
	if err := os.WriteFile(filepath.Join(g.dir, limitFile), []byte(strconv.Itoa(limitMB<<20)), 0); err != nil {
		g.remove()
		return nil, fmt.Errorf("set the memory limit: %w", err)
	}
	return g, nil
}

// ownMemoryCgroup finds the directory of this process's memory cgroup.
func ownMemoryCgroup() (dir string, v2 bool, err error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() { // lines are "id:controllers:path"
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "memory" {
			return filepath.Join("/sys/fs/cgroup/memory", parts[2]), false, nil
		}
		if parts[0] == "0" && parts[1] == "" {
			if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
				dir = filepath.Join("/sys/fs/cgroup", parts[2])
				v2 = true
			}
		}
	}
	if dir == "" {
		return "", false, errors.New("no memory cgroup controller found in /proc/self/cgroup")
	}
	return dir, v2, nil
}

// enter returns the argv that runs argv inside the cgroup: a shell that moves itself in, then execs.
func (g *memCgroup) enter(argv []string) []string {
	script := `echo $$ > "$0" && exec "$@"`
	return append([]string{"/bin/sh", "-c", script, filepath.Join(g.dir, "cgroup.procs")}, argv...)
}

// peakMB is the most memory the cgroup held (the worker's own and the page cache charged to it).
func (g *memCgroup) peakMB() float64 {
	file := "memory.max_usage_in_bytes"
	if g.v2 {
		file = "memory.peak"
	}
	b, err := os.ReadFile(filepath.Join(g.dir, file))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	return n / (1 << 20)
}

// oomKills counts the processes the kernel killed for going over the limit.
func (g *memCgroup) oomKills() int {
	file := "memory.oom_control"
	if g.v2 {
		file = "memory.events"
	}
	b, _ := os.ReadFile(filepath.Join(g.dir, file))
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	return 0
}

// remove deletes the cgroup once its process has exited.
func (g *memCgroup) remove() { _ = os.Remove(g.dir) }
