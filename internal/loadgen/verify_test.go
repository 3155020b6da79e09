package loadgen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name  string
		acked Ranges
		found map[int64]int
		want  VerifyResult
	}{
		{"all there once", Ranges{{0, 4}}, map[int64]int{0: 1, 1: 1, 2: 1, 3: 1, 4: 1},
			VerifyResult{Acked: 5, Found: 5}},
		{"lost and duplicated", Ranges{{0, 4}, {6, 7}}, map[int64]int{0: 1, 2: 2, 4: 1, 6: 3, 7: 1},
			VerifyResult{Acked: 7, Found: 5, Lost: 2, Duplicated: 2, LostSample: []int64{1, 3}, DupSample: []int64{2, 6}}},
		{"stored but never acked is no loss", Ranges{{0, 1}}, map[int64]int{0: 1, 1: 1, 2: 1, 5: 1},
			VerifyResult{Acked: 2, Found: 4, Unacked: 2}},
		{"an unacked duplicate still counts", Ranges{}, map[int64]int{3: 2},
			VerifyResult{Found: 1, Duplicated: 1, DupSample: []int64{3}, Unacked: 1}},
		{"samples keep the lowest", Ranges{{0, 9}}, map[int64]int{},
			VerifyResult{Acked: 10, Lost: 10, LostSample: []int64{0, 1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare("r", tt.acked, tt.found, 3)
			tt.want.RunID = "r"
			if tt.want.LostSample == nil {
				tt.want.LostSample = []int64{}
			}
			if tt.want.DupSample == nil {
				tt.want.DupSample = []int64{}
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.Lost == 0 && tt.want.Duplicated == 0, got.OK())
		})
	}
}

func TestValue(t *testing.T) {
	assert.Equal(t, "run-1:42", string(Value("run-1", 42)))
	tests := []struct {
		in    string
		run   string
		seq   int64
		valid bool
	}{
		{"run-1:42", "run-1", 42, true},
		{"a:b:7", "a:b", 7, true}, // a run id may contain ':'
		{":0", "", 0, true},
		{"run-1", "", 0, false},
		{"run-1:x", "", 0, false},
		{"run-1:-3", "", 0, false},
	}
	for _, tt := range tests {
		run, seq, ok := ParseValue([]byte(tt.in))
		assert.Equal(t, tt.valid, ok, tt.in)
		if tt.valid {
			assert.Equal(t, tt.run, run, tt.in)
			assert.Equal(t, tt.seq, seq, tt.in)
		}
	}
}

func TestParseAcked(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	require.NoError(t, os.WriteFile(report, []byte(`{"runId":"r1","sent":3,"ackedSeqRanges":[[0,1]]}`+"\n"), 0o644))
	stdout := filepath.Join(dir, "stdout.log")
	require.NoError(t, os.WriteFile(stdout, []byte("some noise\n"+`{"runId":"r1","ackedSeqRanges":[[0,4],[6,6]]}`+"\n\n"), 0o644))

	tests := []struct {
		name, arg, runID string
		want             Ranges
		wantErr          string
	}{
		{"inline summary", `{"runId":"r1","ackedSeqRanges":[[0,9]]}`, "r1", Ranges{{0, 9}}, ""},
		{"inline ranges", `[[0,9],[11,12]]`, "r1", Ranges{{0, 9}, {11, 12}}, ""},
		{"report file", report, "r1", Ranges{{0, 1}}, ""},
		{"captured stdout: the last JSON line", stdout, "r1", Ranges{{0, 4}, {6, 6}}, ""},
		{"another run", `{"runId":"r2","ackedSeqRanges":[]}`, "r1", nil,
			`--acked-from: the summary is of run "r2", not --run-id "r1"`},
		{"no ranges", `{"runId":"r1"}`, "r1", nil,
			"--acked-from: the JSON has no ackedSeqRanges: give the produce summary (stdout or --report)"},
		{"bad ranges", `[[5,9],[0,1]]`, "r1", nil,
			"--acked-from: range 1 [0 1]: overlaps or touches range 0 [5 9]: ranges must be ascending and separated by at least one missing seq"},
		{"missing file", filepath.Join(dir, "nope.json"), "r1", nil,
			"--acked-from: open " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAcked(tt.arg, tt.runID)
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseRateAndList(t *testing.T) {
	for in, want := range map[string]float64{"500": 500, "500/s": 500, "2.5/s": 2.5, "0": 0} {
		got, err := ParseRate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "fast", "-1", "5/m"} {
		_, err := ParseRate(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, []string{"a:1", "b:2"}, SplitList(" a:1, ,b:2,"))
}

func TestValidateMessages(t *testing.T) {
	ok := ProduceConfig{Client: ClientConfig{Bootstrap: []string{"k:9092"}}, Topic: "t", RunID: "r", Count: 1}
	require.NoError(t, ok.Validate())
	tests := []struct {
		mod  func(c *ProduceConfig)
		want string
	}{
		{func(c *ProduceConfig) { c.Client.Bootstrap = nil }, "--bootstrap is empty: give host:port[,host:port...]"},
		{func(c *ProduceConfig) { c.Client.Bootstrap = []string{"k"} }, `--bootstrap "k": address k: missing port in address: want host:port`},
		{func(c *ProduceConfig) { c.Client.DNSServer = "kube-dns:53" }, `--dns-server "kube-dns:53": want ip:port, e.g. 10.96.0.10:53`},
		{func(c *ProduceConfig) { c.Topic = "" }, "--topic is empty: give the topic to write to (it must exist)"},
		{func(c *ProduceConfig) { c.Count = 0 }, "neither --duration nor --count is set: give one (or both: the first reached ends the run)"},
		{func(c *ProduceConfig) { c.Rate = -1 }, "--rate = -1/s: must be positive, or 0 for unthrottled"},
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		assert.EqualError(t, c.Validate(), tt.want)
	}
}
