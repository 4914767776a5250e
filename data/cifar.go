package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const (
	cifarClasses = 10
	cifarSide    = 32
	cifarPixels  = 3 * cifarSide * cifarSide // channel-major: all red, all green, all blue
	cifarRecord  = 1 + cifarPixels           // label byte, then pixels
	// maxCIFARRecords bounds what ReadCIFAR10Batch accepts: the whole data
	// set in one file. Official batches hold 10000 records.
	maxCIFARRecords = 60000

	cifarDirName  = "cifar-10-batches-bin"
	cifarTestFile = "test_batch.bin"
	cifarURL      = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
)

// cifarTrainFiles lists the training batches in the order they are read.
var cifarTrainFiles = []string{
	"data_batch_1.bin",
	"data_batch_2.bin",
	"data_batch_3.bin",
	"data_batch_4.bin",
	"data_batch_5.bin",
}

// ReadCIFAR10Batch reads a batch file of the CIFAR-10 binary distribution
// from r. name is used in error messages only.
//
// A batch is a sequence of 3073-byte records: one label byte in 0..9, then
// 3072 pixel bytes, the 32×32 red channel row by row, then green, then blue.
// ReadCIFAR10Batch returns the n labels and the n·3072 pixel bytes, record
// after record. An empty input, a size that is not a whole number of
// records, more than 60000 records, or a label above 9 is an error; on
// error, labels and pixels are nil.
func ReadCIFAR10Batch(r io.Reader, name string) (labels []byte, pixels []byte, err error) {
	// Read one byte past the cap to detect an oversized input.
	buf, err := io.ReadAll(io.LimitReader(r, maxCIFARRecords*cifarRecord+1))
	if err != nil {
		return nil, nil, fmt.Errorf("data: reading %s: %w", name, err)
	}
	switch {
	case len(buf) == 0:
		return nil, nil, fmt.Errorf("data: %s is empty, want %d-byte records (1 label byte, %d pixel bytes)", name, cifarRecord, cifarPixels)
	case len(buf) > maxCIFARRecords*cifarRecord:
		return nil, nil, fmt.Errorf("data: %s holds more than %d records of %d bytes, the most this reader accepts", name, maxCIFARRecords, cifarRecord)
	case len(buf)%cifarRecord != 0:
		return nil, nil, fmt.Errorf("data: %s has %d bytes, not a whole number of %d-byte records (%d records and %d bytes over): truncated, or not a CIFAR-10 binary batch",
			name, len(buf), cifarRecord, len(buf)/cifarRecord, len(buf)%cifarRecord)
	}
	n := len(buf) / cifarRecord
	labels = make([]byte, n)
	for i := range labels {
		l := buf[i*cifarRecord]
		if l >= cifarClasses {
			return nil, nil, fmt.Errorf("data: %s: record %d has label %d, want 0..%d", name, i, l, cifarClasses-1)
		}
		labels[i] = l
	}
	// Compact the pixels in place, dropping the label bytes: the
	// destination never runs ahead of the source.
	for i := range n {
		copy(buf[i*cifarPixels:], buf[i*cifarRecord+1:(i+1)*cifarRecord])
	}
	return labels, buf[: n*cifarPixels : n*cifarPixels], nil
}

// LoadCIFAR10 loads the first N/10 images of each class of the CIFAR-10
// binary distribution, in file order (the training batches are read in
// order, only as many as needed), as a 3×32×32 image set with one-hot
// targets.
//
// The batch files are looked for in Options.DataDir, or when it is empty in
// $EOS_DATA, ./data and ~/data; each directory is tried first with the
// cifar-10-batches-bin subdirectory the official archive extracts to, then
// by itself. The error for missing data is a *NotFoundError listing every
// path tried and how to obtain the archive.
func LoadCIFAR10(opt *Options) (*Set, error) {
	cfg, err := resolve(opt, cifarClasses)
	if err != nil {
		return nil, err
	}
	files, split := cifarTrainFiles, "train"
	if cfg.test {
		files, split = []string{cifarTestFile}, "test"
	}
	dir, err := findCIFAR(cfg.dataDir, files[0], split)
	if err != nil {
		return nil, err
	}
	sub := newSubset(cfg.n, cifarClasses, cifarPixels)
	var read []string
	complete := false
	for _, f := range files {
		path := filepath.Join(dir, f)
		labels, pixels, err := readCIFARFile(path)
		if err != nil {
			return nil, err
		}
		read = append(read, path)
		if complete = sub.add(labels, pixels); complete {
			break
		}
	}
	if !complete {
		return nil, sub.shortfall(strings.Join(read, ", "))
	}
	source := fmt.Sprintf("cifar10 %s: first %d per class of %s", split, cfg.n/cifarClasses, strings.Join(read, ", "))
	return imageSet("cifar10", sub, cifarClasses, 3, cifarSide, cifarSide, cfg.norm, source), nil
}

func readCIFARFile(path string) (labels, pixels []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return ReadCIFAR10Batch(f, path)
}

// findCIFAR returns the first candidate directory holding the file first.
func findCIFAR(dataDir, first, split string) (string, error) {
	var bases []string
	if dataDir != "" {
		bases = []string{dataDir}
	} else {
		if env := os.Getenv("EOS_DATA"); env != "" {
			bases = append(bases, env)
		}
		bases = append(bases, "data")
		if home, err := os.UserHomeDir(); err == nil {
			bases = append(bases, filepath.Join(home, "data"))
		}
	}
	var tried []string
	seen := make(map[string]bool)
	for _, b := range bases {
		if abs, err := filepath.Abs(b); err == nil {
			b = abs
		}
		if seen[b] { // ./data is ~/data when run from home
			continue
		}
		seen[b] = true
		for _, dir := range []string{filepath.Join(b, cifarDirName), b} {
			path := filepath.Join(dir, first)
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				return dir, nil
			}
			tried = append(tried, path)
		}
	}
	return "", &NotFoundError{
		What:  "CIFAR-10 " + split + " split",
		Tried: tried,
		Hint: "Download " + cifarURL + " (binary version, 163 MB) and extract it with tar xzf into one of those directories," +
			" or point --data-dir or $EOS_DATA at the directory holding " + cifarDirName + "/.",
	}
}
