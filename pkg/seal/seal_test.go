package seal

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func mustKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := mustKey(t)
	s := NewSealer(k)
	aad := []byte("id||2026H2")
	pt := []byte(`{"url":"https://secret-host.example/a"}`)
	sealed, err := s.Seal(nil, aad, pt)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != len(pt)+Overhead {
		t.Errorf("sealed %d bytes, want %d", len(sealed), len(pt)+Overhead)
	}
	if bytes.Contains(sealed, []byte("secret-host")) {
		t.Error("plaintext visible in the sealed value")
	}
	got, err := s.Open(aad, sealed)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := s.Seal(nil, aad, pt)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one plaintext are equal: the nonce is not fresh")
	}

	other := NewSealer(mustKey(t))
	tampered := bytes.Clone(sealed)
	tampered[NonceSize+3] ^= 1
	badNonce := bytes.Clone(sealed)
	badNonce[0] ^= 1
	badTag := bytes.Clone(sealed)
	badTag[len(badTag)-1] ^= 0x80
	for name, open := range map[string]func() ([]byte, error){
		"wrong key":       func() ([]byte, error) { return other.Open(aad, sealed) },
		"wrong aad":       func() ([]byte, error) { return s.Open([]byte("id||2026H1"), sealed) },
		"no aad":          func() ([]byte, error) { return s.Open(nil, sealed) },
		"tampered body":   func() ([]byte, error) { return s.Open(aad, tampered) },
		"tampered nonce":  func() ([]byte, error) { return s.Open(aad, badNonce) },
		"tampered tag":    func() ([]byte, error) { return s.Open(aad, badTag) },
		"truncated":       func() ([]byte, error) { return s.Open(aad, sealed[:len(sealed)-1]) },
		"shorter than IV": func() ([]byte, error) { return s.Open(aad, sealed[:5]) },
		"empty":           func() ([]byte, error) { return s.Open(aad, nil) },
	} {
		if got, err := open(); !errors.Is(err, ErrOpen) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", name, got, err)
		}
	}
}

func TestWrapUnwrap(t *testing.T) {
	kek, dk := mustKey(t), mustKey(t)
	w, err := Wrap(kek, "2026H1", dk)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(w, dk[:8]) {
		t.Error("data key visible in its wrapping")
	}
	got, err := Unwrap(kek, "2026H1", w)
	if err != nil || got != dk {
		t.Fatalf("Unwrap = %x, %v", got, err)
	}
	if _, err := Unwrap(mustKey(t), "2026H1", w); !errors.Is(err, ErrOpen) {
		t.Errorf("wrong KEK: %v", err)
	}
	if _, err := Unwrap(kek, "2026H2", w); !errors.Is(err, ErrOpen) {
		t.Errorf("wrong half-year: %v", err)
	}
}

func TestCheckValueAndDerive(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	if CheckValue(a) != CheckValue(a) || CheckValue(a) == CheckValue(b) || len(CheckValue(a)) != 64 {
		t.Error("check values do not tell keys apart")
	}
	if len(Fingerprint(CheckValue(a))) != 16 {
		t.Error("fingerprint length")
	}
	if Derive(a, "x") == Derive(a, "y") || Derive(a, "x") != Derive(a, "x") || Derive(a, "x") == a {
		t.Error("Derive does not separate purposes")
	}
}

func TestKEKFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "server.db.kek")
	kek, err := WriteKEKFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", st.Mode(), err)
	}
	got, insecure, err := ReadKEKFile(path)
	if err != nil || got != kek || insecure {
		t.Fatalf("ReadKEKFile = %x, %v, %v", got, insecure, err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte("\n"+KEKPrefix)) {
		t.Errorf("file text:\n%s", b)
	}
	if _, err := WriteKEKFile(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second WriteKEKFile: %v, want ErrExist", err)
	}
	if again, _, _ := ReadKEKFile(path); again != kek {
		t.Error("the existing key was replaced")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, insecure, _ := ReadKEKFile(path); !insecure {
		t.Error("a world-readable key file is not reported")
	}
}

// TestKEKFileRace: processes starting at once on a fresh database all end
// up with the one key that was written.
func TestKEKFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			if _, err := WriteKEKFile(path); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, fs.ErrExist) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d writers won, want 1", wins)
	}
}

func TestParseKEK(t *testing.T) {
	k := mustKey(t)
	good := string(FormatKEK(k))
	if got, err := ParseKEK([]byte(good)); err != nil || got != k {
		t.Fatalf("ParseKEK(FormatKEK) = %v", err)
	}
	line := good[strings.Index(good, KEKPrefix):]
	for name, text := range map[string]string{
		"empty":      "",
		"comments":   "# nothing\n",
		"two keys":   line + line,
		"short":      KEKPrefix + "AAAA\n",
		"not base64": KEKPrefix + "!!!!\n",
		"stray line": "hello\n" + line,
		"other kind": strings.Replace(line, "v1", "v2", 1),
	} {
		if _, err := ParseKEK([]byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseKEK([]byte("\n  " + strings.TrimSpace(line) + "  \r\n")); err != nil {
		t.Errorf("white space around the line: %v", err)
	}
}

func BenchmarkSeal(b *testing.B) {
	s := NewSealer(mustKey(b))
	pt := bytes.Repeat([]byte("x"), 250) // a file record is about 250 bytes
	aad := make([]byte, 22)
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := s.Seal(buf[:0], aad, pt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealWithNonce is Seal without reading the nonce from
// crypto/rand (StoreSubmissions reads a batch's nonces at once).
func BenchmarkSealWithNonce(b *testing.B) {
	s := NewSealer(mustKey(b))
	pt := bytes.Repeat([]byte("x"), 250)
	aad := make([]byte, 22)
	buf := make([]byte, 0, 512)
	var nonce [NonceSize]byte
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		nonce[0]++
		_ = s.SealWithNonce(buf[:0], nonce, aad, pt)
	}
}
