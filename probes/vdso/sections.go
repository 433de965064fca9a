package vdso

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
)

// parseSections reads the dynamic symbols through the section headers with
// debug/elf. It returns nil symbols and no error when the image has no
// section headers, so the caller falls back to the program headers.
func parseSections(image []byte) ([]Symbol, Source, error) {
	if err := checkHeader(image); err != nil {
		return nil, "", err
	}
	shoff, shnum, shentsize := le.Uint64(image[0x28:]), uint64(le.Uint16(image[0x3c:])), uint64(le.Uint16(image[0x3a:]))
	if shoff == 0 || shnum == 0 {
		return nil, "", nil
	}
	if end := shoff + shnum*shentsize; end > uint64(len(image)) {
		return nil, "", fmt.Errorf("%w: section headers end at %#x, past the %d bytes of image", ErrBadImage, end, len(image))
	}
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if len(f.Sections) == 0 || f.Section(".dynsym") == nil {
		return nil, "", nil
	}
	ds, err := f.DynamicSymbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, "", nil
		}
		return nil, "", fmt.Errorf("%w: dynamic symbols: %v", ErrBadImage, err)
	}
	syms := make([]Symbol, 0, len(ds))
	for _, s := range ds {
		syms = append(syms, Symbol{
			Name:    s.Name,
			Version: s.Version,
			Value:   s.Value,
			Size:    s.Size,
			Func:    elf.ST_TYPE(s.Info) == elf.STT_FUNC,
			Defined: s.Section != elf.SHN_UNDEF,
		})
	}
	return syms, FromSections, nil
}
