package participation

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// helper returns a command running the named helper process (see
// helpers_test.go) with the given environment.
func helper(name string, vars ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + name}, vars...)...)
	return cmd
}

// startAll starts n helpers to act at the same moment and returns their
// commands and outputs (stdout, stderr).
func startAll(t *testing.T, n int, name string, vars func(i int) []string) ([]*exec.Cmd, []*bytes.Buffer, []*bytes.Buffer) {
	t.Helper()
	// Far enough ahead that all of them are running by then, even under
	// the race detector.
	at := time.Now().Add(2 * time.Second).UnixNano()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	errs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmd := helper(name, append(vars(i), helperAtEnv+"="+strconv.FormatInt(at, 10), helperIndexEnv+"="+strconv.Itoa(i))...)
		outs[i], errs[i] = new(bytes.Buffer), new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[i], errs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	return cmds, outs, errs
}

// Eight processes open one fresh state directory at the same moment and
// each appends 500 records: afterwards the outbox holds exactly those
// 4000, each once.
func TestConcurrentAppendProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := filepath.Join(t.TempDir(), "fresh", "state")
	const procs = 8
	cmds, outs, errs := startAll(t, procs, "append", func(int) []string { return []string{helperDirEnv + "=" + dir} })

	reported := map[string]int{} // id → process that appended it
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, errs[i])
			continue
		}
		for _, id := range strings.Fields(outs[i].String()) {
			if p, dup := reported[id]; dup {
				t.Errorf("processes %d and %d both made id %s", p, i, id)
			}
			reported[id] = i
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(reported) != procs*appendBatches*appendBatchSize {
		t.Fatalf("the processes reported %d ids, want %d", len(reported), procs*appendBatches*appendBatchSize)
	}

	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSchemaOnce(t, s)
	seen := map[string]bool{}
	perProcess := map[int]map[int]bool{}
	err = s.Records(context.Background(), func(r Record) error {
		if seen[r.ID] {
			return fmt.Errorf("record %s twice", r.ID)
		}
		seen[r.ID] = true
		p, ok := reported[r.ID]
		if !ok {
			return fmt.Errorf("record %s appended by nobody", r.ID)
		}
		var body struct{ Process, N int }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			return fmt.Errorf("record %s: %w", r.ID, err)
		}
		if body.Process != p {
			return fmt.Errorf("record %s of process %d has the body of process %d", r.ID, p, body.Process)
		}
		if perProcess[p] == nil {
			perProcess[p] = map[int]bool{}
		}
		perProcess[p][body.N] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(reported) {
		t.Errorf("the outbox holds %d records, want %d", len(seen), len(reported))
	}
	for p := range procs {
		if len(perProcess[p]) != appendBatches*appendBatchSize {
			t.Errorf("process %d: %d distinct records, want %d", p, len(perProcess[p]), appendBatches*appendBatchSize)
		}
	}
	if st := stats(t, s); st.Records != procs*appendBatches*appendBatchSize || st.DroppedFull != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// Processes trying to append the day's system record at once append one.
func TestConcurrentSystemRecordProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := filepath.Join(t.TempDir(), "state")
	// Open once first, so that the processes race on the record rather
	// than (only) on the first open; TestConcurrentAppendProcesses covers
	// that race.
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for round, now := range []time.Time{testEpoch, testEpoch.Add(25 * time.Hour)} {
		const procs = 4 // two are enough to race; four race more
		cmds, outs, errs := startAll(t, procs, "system", func(int) []string {
			return []string{helperDirEnv + "=" + dir, helperNowEnv + "=" + strconv.FormatInt(now.Unix(), 10)}
		})
		appended := 0
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("round %d, process %d: %v\n%s", round, i, err, errs[i])
			}
			switch out := strings.TrimSpace(outs[i].String()); out {
			case "appended true":
				appended++
			case "appended false":
			default:
				t.Fatalf("round %d, process %d printed %q", round, i, out)
			}
		}
		if appended != 1 {
			t.Errorf("round %d: %d processes appended the system record, want 1", round, appended)
		}
		if n := countKind(t, s, KindSystem); n != round+1 {
			t.Errorf("round %d: %d system records, want %d", round, n, round+1)
		}
	}
}

// A process killed (SIGKILL) while it appends leaves a state directory
// that opens, with every record whole and every decision readable.
func TestKilledWhileAppending(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	var prevSeq int64 // decisions of earlier rounds (they cannot be cleared)
	for round := range 4 {
		cmd := helper("crash", helperDirEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it commit four batches, and kill it a moment after it began
		// the fifth Append, which takes longer: the kill lands inside it,
		// at a different point each round.
		sc := bufio.NewScanner(out)
		for lines := 0; lines < 5 && sc.Scan(); lines++ {
		}
		time.Sleep(time.Duration(1+rand.IntN(4000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatal(err)
		}
		if err := cmd.Wait(); err == nil {
			t.Fatalf("round %d: the helper exited by itself\n%s", round, stderr.String())
		} else if runtime.GOOS != "windows" && !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: the helper failed: %v\n%s", round, err, stderr.String())
		}

		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("round %d: Open after the kill: %v", round, err)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatalf("round %d: Stats: %v", round, err)
		}
		n := 0
		var bytes int64
		err = s.Records(ctx, func(r Record) error {
			n++
			bytes += int64(len(r.Body))
			var obs FileObservation
			if err := json.Unmarshal(r.Body, &obs); err != nil {
				return fmt.Errorf("record %s: %w: %q", r.ID, err, r.Body)
			}
			if len(obs.Digests["sha256"]) != 64 || obs.Verdict != "unknown" {
				return fmt.Errorf("record %s: body %s", r.ID, r.Body)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: Records: %v", round, err)
		}
		if n != st.Records || bytes != st.Bytes {
			t.Errorf("round %d: read %d records of %d bytes, Stats says %+v", round, n, bytes, st)
		}
		// Batches are transactions: all of a batch or none of it.
		if n < 4*crashBatch || n%crashBatch != 0 {
			t.Errorf("round %d: %d records, want whole batches of %d, at least 4", round, n, crashBatch)
		}
		latest, err := s.Latest(ctx)
		if err != nil || latest == nil {
			t.Fatalf("round %d: Latest = %v, %v", round, latest, err)
		}
		ds, err := s.Decisions(ctx)
		if err != nil || int64(len(ds)) != latest.Seq || ds[len(ds)-1] != *latest {
			t.Errorf("round %d: %d decisions, latest %+v, %v", round, len(ds), latest, err)
		}
		// A batch's decision is recorded before its records.
		if made := latest.Seq - prevSeq; int64(n/crashBatch) > made || made > int64(n/crashBatch)+1 {
			t.Errorf("round %d: %d decisions for %d batches", round, made, n/crashBatch)
		}
		prevSeq = latest.Seq
		// Still writable.
		if _, err := s.Append(ctx, fileRecords(t, 1, testEpoch), Limits{}); err != nil {
			t.Errorf("round %d: Append after the kill: %v", round, err)
		}
		if _, err := s.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
