// Command tlogverify checks a directory of C2SP tlog-tiles and its signed checkpoint
// with Go's own transparency-log packages (golang.org/x/mod/sumdb/tlog and note, from
// Debian's golang-golang-x-mod-dev): the tests' independent implementation of what
// `ntk ledger tiles` writes. Only the tile paths (c2sp.org/tlog-tiles drops sumdb's
// height element), the checkpoint's three lines (c2sp.org/tlog-checkpoint) and the
// entry bundles' uint16 prefixes are read here; every hash, proof and signature is
// checked by the Go packages.
//
// Usage: tlogverify -dir DIR -key VERIFIER_KEY [-old OLD_CHECKPOINT] [-entries] [-every N]
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return height }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		read, err := os.ReadFile(filepath.Join(d.dir, tilePath(strconv.Itoa(t.L), t.N, t.W)))
		if err != nil {
			return nil, err
		}
		data[i] = read
	}
	return data, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// tilePath is tile/<L>/<N>[.p/<W>], N in zero-padded 3-digit elements, all but the
// last prefixed with x.
func tilePath(level string, n int64, w int) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	path := "tile/" + level + "/" + s
	if w < 1<<height {
		path += fmt.Sprintf(".p/%d", w)
	}
	return path
}

func checkpoint(path string, verifiers note.Verifiers) (string, int64, tlog.Hash, error) {
	var root tlog.Hash
	msg, err := os.ReadFile(path)
	if err != nil {
		return "", 0, root, err
	}
	n, err := note.Open(msg, verifiers)
	if err != nil {
		return "", 0, root, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return "", 0, root, errors.New("a checkpoint has an origin, a size and a root hash")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, errors.New("bad tree size")
	}
	decoded, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(decoded) != tlog.HashSize {
		return "", 0, root, errors.New("bad root hash")
	}
	copy(root[:], decoded)
	if n.Sigs[0].Name != lines[0] {
		return "", 0, root, errors.New("the signing key's name is not the origin")
	}
	return lines[0], size, root, nil
}

func leaf(r tlog.HashReader, i int64) (tlog.Hash, error) {
	hashes, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
	if err != nil {
		return tlog.Hash{}, err
	}
	return hashes[0], nil
}

func run() (map[string]any, error) {
	dir := flag.String("dir", "", "the tiles' directory")
	key := flag.String("key", "", "the checkpoint's verifier key (name+id+base64)")
	old := flag.String("old", "", "an earlier checkpoint the tree must extend")
	entries := flag.Bool("entries", false, "check the entry bundles too")
	every := flag.Int64("every", 1, "prove the inclusion of every Nth leaf (and the last)")
	flag.Parse()
	verifier, err := note.NewVerifier(*key)
	if err != nil {
		return nil, err
	}
	verifiers := note.VerifierList(verifier)
	origin, size, root, err := checkpoint(filepath.Join(*dir, "checkpoint"), verifiers)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	reader := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, dirTiles{*dir})
	computed, err := tlog.TreeHash(size, reader)
	if err != nil {
		return nil, fmt.Errorf("tree hash: %w", err)
	}
	if computed != root {
		return nil, errors.New("the tiles do not give the checkpoint's root")
	}
	found := map[string]any{"origin": origin, "tree_size": size}
	proved := 0
	for i := int64(0); i < size; i += *every {
		if i+*every >= size {
			i = size - 1
		}
		hash, err := leaf(reader, i)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", i, err)
		}
		proof, err := tlog.ProveRecord(size, i, reader)
		if err != nil {
			return nil, fmt.Errorf("proof of %d: %w", i, err)
		}
		if err := tlog.CheckRecord(proof, size, root, i, hash); err != nil {
			return nil, fmt.Errorf("inclusion of %d: %w", i, err)
		}
		proved++
	}
	found["inclusions_checked"] = proved
	if *entries {
		checked := int64(0)
		for n := int64(0); n*(1<<height) < size; n++ {
			width := int(min64(1<<height, size-n*(1<<height)))
			bundle, err := os.ReadFile(filepath.Join(*dir, tilePath("entries", n, width)))
			if err != nil {
				return nil, err
			}
			for len(bundle) > 0 {
				if len(bundle) < 2 {
					return nil, errors.New("a truncated entry bundle")
				}
				length := int(binary.BigEndian.Uint16(bundle))
				if len(bundle) < 2+length {
					return nil, errors.New("a truncated entry")
				}
				hash, err := leaf(reader, checked)
				if err != nil {
					return nil, err
				}
				if tlog.RecordHash(bundle[2:2+length]) != hash {
					return nil, fmt.Errorf("entry %d does not hash to its leaf", checked)
				}
				bundle = bundle[2+length:]
				checked++
			}
		}
		if checked != size {
			return nil, fmt.Errorf("the bundles hold %d entries, not %d", checked, size)
		}
		found["entries_checked"] = checked
	}
	if *old != "" {
		oldOrigin, oldSize, oldRoot, err := checkpoint(*old, verifiers)
		if err != nil {
			return nil, fmt.Errorf("old checkpoint: %w", err)
		}
		if oldOrigin != origin || oldSize > size {
			return nil, errors.New("the old checkpoint is of another log, or larger")
		}
		proof, err := tlog.ProveTree(size, oldSize, reader)
		if err != nil {
			return nil, fmt.Errorf("consistency proof: %w", err)
		}
		if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err != nil {
			return nil, fmt.Errorf("consistency: %w", err)
		}
		found["consistent_with"] = oldSize
	}
	return found, nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func main() {
	found, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlogverify:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(found)
	fmt.Println(string(out))
}
