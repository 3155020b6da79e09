package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The broker container keeps at least HeapHeadroomPercent of its memory limit,
// and never less than MinHeapHeadroom, outside the Java heap (heapHeadroom).
const (
	HeapHeadroomPercent = 25
	MinHeapHeadroom     = 512 << 20 // bytes
)

const mi = 1 << 20

// heapHeadroom is the memory a broker container with this memory limit needs
// outside the Java heap: the larger of a quarter of the limit and 512Mi.
//
// Why: the heap is only part of a Kafka JVM. Outside -Xmx it keeps metaspace
// for Kafka's classes, the JIT's code cache (which may grow to 240Mi), a stack
// for each thread (a broker runs 100-200: network, request handlers, replica
// fetchers, the log cleaner, the controller, GC), GC bookkeeping (G1's
// remembered sets and card tables, several percent of the heap), direct
// buffers for network I/O, which grow with connections and request sizes, and
// the JMX exporter agent. Measured once with Native Memory Tracking (a local
// 4.1.1 node on the dev config, 1g heap, seven topics, idle): 165Mi committed
// outside the heap, of it GC 77Mi, metaspace 35Mi, 104 threads; that is before
// the JIT has compiled the hot paths and before any traffic's buffers. The
// container is OOM-killed the moment the JVM's own memory passes the limit.
// And Kafka serves consumers from the page cache, which the kernel charges to
// the container's memory cgroup: it is reclaimed rather than OOM-killed, but a
// heap that fills the limit leaves it nothing, so every fetch behind the head
// of the log goes to disk. The 512Mi floor covers the JVM's own part in a
// small container with room to spare; the quarter grows with the limit, for
// the direct memory and page cache that grow with traffic. The shipped stacks
// and the real-node tests fit: 1g in 2Gi (dev, the default), 4g in 8Gi
// (prod), 768m in 2Gi (tests/realnode's prod overrides).
func heapHeadroom(limit float64) float64 {
	return max(limit*HeapHeadroomPercent/100, MinHeapHeadroom)
}

// minLimitFor is the smallest memory limit whose headroom leaves room for heap
// bytes of heap, rounded up to a whole Mi.
func minLimitFor(heap float64) float64 {
	limit := heap + MinHeapHeadroom
	if byQuarter := heap * 100 / (100 - HeapHeadroomPercent); byQuarter > limit {
		limit = byQuarter
	}
	return ceilMi(limit)
}

func ceilMi(b float64) float64 { return float64(int64((b+mi-1)/mi)) * mi }

// jvmSizeRE is a JVM memory size: a whole number with an optional k, m, g or t
// (binary units: 1g is 1Gi).
var jvmSizeRE = regexp.MustCompile(`^([0-9]+)([kKmMgGtT]?)$`)

func parseJVMSize(s string) (float64, bool) {
	m := jvmSizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[strings.ToLower(m[2])]
	return n * float64(uint64(1)<<shift), true
}

// heapFlags are the heap settings of a KAFKA_HEAP_OPTS value, read as the JVM
// reads them: the last of each flag wins.
type heapFlags struct {
	max, initial   string  // -Xmx, -Xms as written ("" if absent)
	maxRAMPercent  float64 // -XX:MaxRAMPercentage (0 if absent)
	maxB, initialB float64 // max and initial in bytes
}

// parseHeapOpts reads the heap flags; a flag whose size the JVM would refuse
// is a problem naming it. Other JVM flags are left alone.
func parseHeapOpts(p *problems, opts string) (heapFlags, bool) {
	var h heapFlags
	ok := true
	bad := func(flag, example string) {
		p.add("broker.heapOpts", opts, flag+" is not a JVM size (a whole number with k, m, g or t), so the JVM would not start", "write it like "+example)
		ok = false
	}
	for _, f := range strings.Fields(opts) {
		switch {
		case strings.HasPrefix(f, "-Xmx"):
			if b, good := parseJVMSize(f[4:]); good {
				h.max, h.maxB = f[4:], b
			} else {
				bad(f, "-Xmx1g or -Xmx1536m")
			}
		case strings.HasPrefix(f, "-Xms"):
			if b, good := parseJVMSize(f[4:]); good {
				h.initial, h.initialB = f[4:], b
			} else {
				bad(f, "-Xms512m")
			}
		case strings.HasPrefix(f, "-XX:MaxRAMPercentage="):
			pct, err := strconv.ParseFloat(strings.TrimPrefix(f, "-XX:MaxRAMPercentage="), 64)
			if err != nil || pct <= 0 || pct > 100 {
				p.add("broker.heapOpts", opts, f+" is not a percentage from 0 to 100, so the JVM would not start", "write it like -XX:MaxRAMPercentage=60")
				ok = false
				continue
			}
			h.maxRAMPercent = pct
		}
	}
	return h, ok
}

// checkHeap refuses heap flags the JVM would not start with, and a heap that
// leaves the container less than heapHeadroom outside it. It needs
// s.Resources and s.Broker.
func checkHeap(p *problems, s *Spec) {
	h, ok := parseHeapOpts(p, s.Broker.HeapOpts)
	if !ok {
		return
	}
	if h.max != "" && h.initial != "" && h.initialB > h.maxB {
		p.add("broker.heapOpts", s.Broker.HeapOpts, fmt.Sprintf("-Xms (%s) exceeds -Xmx (%s), so the JVM would not start", h.initial, h.max),
			"lower -Xms to at most -Xmx")
		return
	}
	limit, err := ParseQuantity(s.Resources.LimitsMemory)
	if err != nil || limit <= 0 {
		return // reported by buildResources
	}
	heap, flag := heapSize(h, limit)
	headroom := heapHeadroom(limit)
	if heap <= limit-headroom {
		return
	}
	left := "leaves " + formatMi(max(limit-heap, 0)) + " of"
	if heap > limit {
		left = "is more than"
	}
	p.add("broker.heapOpts", s.Broker.HeapOpts,
		fmt.Sprintf("the heap (%s) %s resources.limits.memory (%s), and a broker needs at least %s outside the heap "+
			"(the larger of %d%% of the limit and %s) for metaspace, thread stacks, direct buffers and the page cache, "+
			"else the container is OOM-killed, or its fetches miss the page cache and go to disk",
			flag, left, s.Resources.LimitsMemory, formatMi(headroom), HeapHeadroomPercent, formatMi(MinHeapHeadroom)),
		fmt.Sprintf("cap the heap at %dm (-Xmx%dm, -Xms no higher), or raise resources.limits.memory to at least %s",
			int64(limit-headroom)/mi, int64(limit-headroom)/mi, formatMi(minLimitFor(heap))))
}

// heapSize is the most heap the JVM will take under a container limit, and the
// flag that decides it: -Xmx; else -XX:MaxRAMPercentage of the limit; else the
// JVM's own default, a quarter of the limit. -Xms raises it when larger.
func heapSize(h heapFlags, limit float64) (float64, string) {
	heap, flag := limit/4, "the JVM's default, 25% of the limit"
	switch {
	case h.max != "":
		heap, flag = h.maxB, "-Xmx"+h.max
	case h.maxRAMPercent > 0:
		heap, flag = limit*h.maxRAMPercent/100, fmt.Sprintf("-XX:MaxRAMPercentage=%g", h.maxRAMPercent)
	}
	if h.initial != "" && h.initialB > heap {
		heap, flag = h.initialB, "-Xms"+h.initial
	}
	return heap, flag
}

// formatMi prints bytes as a Kubernetes quantity in Gi when whole, else Mi
// (rounded down).
func formatMi(b float64) string {
	n := int64(b) / mi
	if n%1024 == 0 && n > 0 {
		return fmt.Sprintf("%dGi", n/1024)
	}
	return fmt.Sprintf("%dMi", n)
}
