package fetchtest

import (
	"io"
	"runtime"
	"sync"
	"time"
)

// GenHeader is the header of GenCSV files.
const GenHeader = "id,email,first_name,last_name,score\n"

// genRow is one row's layout; every row has the same width, so any byte
// offset maps to a row without reading the rows before it.
const genRow = "0000000000,user0000000000@example.com,First0000000000,Last0000000000,00000\n"

// GenCSV is a generated CSV file of Rows rows (lines 2..Rows+1) that is
// stored nowhere: ReadAt computes any part of it. Servers in tests serve it
// to import files of any size in constant memory.
type GenCSV struct{ Rows int64 }

// GenRowBytes is the size of one row.
const GenRowBytes = int64(len(genRow))

// Size is the file's size in bytes.
func (g GenCSV) Size() int64 { return int64(len(GenHeader)) + g.Rows*GenRowBytes }

// RowsFor returns the rows of a GenCSV of about size bytes.
func RowsFor(size int64) int64 { return max(1, (size-int64(len(GenHeader)))/GenRowBytes) }

// ReadAt implements io.ReaderAt.
func (g GenCSV) ReadAt(p []byte, off int64) (int, error) {
	size := g.Size()
	if off >= size {
		return 0, io.EOF
	}
	n := 0
	var row [len(genRow)]byte
	for n < len(p) && off < size {
		h := int64(len(GenHeader))
		if off < h {
			c := copy(p[n:], GenHeader[off:])
			n += c
			off += int64(c)
			continue
		}
		i := (off - h) / GenRowBytes
		fillRow(&row, i+1)
		c := copy(p[n:], row[(off-h)%GenRowBytes:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Reader reads the whole file from the start.
func (g GenCSV) Reader() io.Reader { return io.NewSectionReader(g, 0, g.Size()) }

// fillRow writes row i: id, email, first and last name carry i; score is
// i mod 100000.
func fillRow(row *[len(genRow)]byte, i int64) {
	copy(row[:], genRow)
	digits := func(at int, v int64, width int) {
		for k := at + width - 1; k >= at; k-- {
			row[k] = byte('0' + v%10)
			v /= 10
		}
	}
	digits(0, i, 10)
	digits(15, i, 10)
	digits(43, i, 10)
	digits(58, i, 10)
	digits(69, i%100000, 5)
}

// HeapPeak samples the in-use heap every 5 ms while fn runs and returns the
// highest value seen and the value after fn.
func HeapPeak(fn func()) (peak, after uint64) {
	var mu sync.Mutex
	done := make(chan struct{})
	stopped := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	fn()
	close(done)
	<-stopped
	sample()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return peak, ms.HeapInuse
}
