package participation

// jsonValid reports whether b is valid JSON exactly as encoding/json's
// Valid does (the same grammar, the same white space, bytes >= 0x20 other
// than '"' and '\\' taken as they are in strings, at most 10,000 nested
// arrays and objects), several times faster: validating the bodies was half
// the cost of appending 20,000 records. FuzzJSONValid compares the two.
func jsonValid(b []byte) bool {
	p := jsonParser{b: b}
	p.space()
	if !p.value(0) {
		return false
	}
	p.space()
	return p.i == len(p.b)
}

// maxJSONDepth is encoding/json's limit on nesting.
const maxJSONDepth = 10000

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next returns the byte at p.i, or 0 at the end.
func (p *jsonParser) next() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// value parses one value at p.i, inside depth arrays and objects.
func (p *jsonParser) value(depth int) bool {
	switch c := p.next(); {
	case c == '{':
		if depth >= maxJSONDepth {
			return false
		}
		p.i++
		p.space()
		if p.next() == '}' {
			p.i++
			return true
		}
		for {
			if p.next() != '"' || !p.str() {
				return false
			}
			p.space()
			if p.next() != ':' {
				return false
			}
			p.i++
			p.space()
			if !p.value(depth + 1) {
				return false
			}
			p.space()
			switch p.next() {
			case ',':
				p.i++
				p.space()
			case '}':
				p.i++
				return true
			default:
				return false
			}
		}
	case c == '[':
		if depth >= maxJSONDepth {
			return false
		}
		p.i++
		p.space()
		if p.next() == ']' {
			p.i++
			return true
		}
		for {
			if !p.value(depth + 1) {
				return false
			}
			p.space()
			switch p.next() {
			case ',':
				p.i++
				p.space()
			case ']':
				p.i++
				return true
			default:
				return false
			}
		}
	case c == '"':
		return p.str()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	return false
}

func (p *jsonParser) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

// str parses a string; p.i is at its opening quote.
func (p *jsonParser) str() bool {
	b := p.b
	i := p.i + 1
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 {
					return false
				}
				for _, h := range b[i+2 : i+6] {
					if !isHexDigit(h) {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default:
			i++
		}
	}
	return false
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number parses -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *jsonParser) number() bool {
	if p.next() == '-' {
		p.i++
	}
	switch c := p.next(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return false
	}
	if p.next() == '.' {
		p.i++
		if !p.digits() {
			return false
		}
	}
	if c := p.next(); c == 'e' || c == 'E' {
		p.i++
		if c := p.next(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits skips [0-9]* and reports whether there was one.
func (p *jsonParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}
