package urlcanon_test

import (
	"fmt"

	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// What --explain shows for one link: the canonical URL, what was dropped,
// the expressions with the prefixes that would be sent, and the form a
// submission would carry.
func Example() {
	c, err := urlcanon.Canonicalize("HTTPS://jane:s3cret@Mail.Example.COM:8443/u/jane@example.org/inbox?session=abc#top")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("canonical:", c)
	fmt.Println("dropped userinfo:", c.HadUserinfo, "port:", c.Port, "fragment:", c.HadFragment)
	for _, e := range c.Lookup().Entries {
		fmt.Println(e.Prefix, e.Expression)
	}
	fmt.Println("submitted:", urlcanon.Redact(c))
	// Output:
	// canonical: https://mail.example.com/u/jane@example.org/inbox?session=abc
	// dropped userinfo: true port: 8443 fragment: true
	// 016727d4 mail.example.com/u/jane@example.org/inbox?session=abc
	// 14f39269 mail.example.com/u/jane@example.org/inbox
	// 6e9ff731 mail.example.com/
	// bae8bb3a mail.example.com/u/
	// 321b6b7e mail.example.com/u/jane@example.org/
	// 0e8b7c8e example.com/u/jane@example.org/inbox?session=abc
	// 9976fc6a example.com/u/jane@example.org/inbox
	// 73d986e0 example.com/
	// 6022b905 example.com/u/
	// 50e0daab example.com/u/jane@example.org/
	// submitted: https://mail.example.com/u/{email}/inbox
}

func ExampleCanonicalize_error() {
	_, err := urlcanon.Canonicalize("http://www.example.com:80a/")
	fmt.Println(err)
	// Output:
	// urlcanon: invalid port: "80a" is not a number
}
