package urlcanon

import "testing"

func TestRedact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ordinary", "http://www.example.com/blog/2024/06/index.html", "http://www.example.com/blog/2024/06/index.html"},
		{"root", "http://example.com", "http://example.com/"},
		{"trailing slash kept", "http://example.com/a/b/", "http://example.com/a/b/"},
		{"short segments", "https://example.com/v2/api/users/me", "https://example.com/v2/api/users/me"},
		{"slug without digits", "http://example.com/how-to-bake-a-really-good-loaf-of-bread", "http://example.com/how-to-bake-a-really-good-loaf-of-bread"},
		{"five digits kept", "http://example.com/item/12345", "http://example.com/item/12345"},

		{"email", "http://example.com/users/jane.doe@example.org/profile", "http://example.com/users/{email}/profile"},
		{"email with plus", "http://example.com/u/jane+ksn@mail.example.co.uk", "http://example.com/u/{email}"},
		{"escaped email", "http://example.com/u/jane%40example.org", "http://example.com/u/{email}"},
		{"email at a one-label domain", "http://example.com/u/jane.doe@corp/x", "http://example.com/u/{email}/x"},
		{"any at sign", "http://example.com/u/jane@", "http://example.com/u/{email}"},
		{"fediverse address", "http://example.com/@jane@example.social", "http://example.com/{email}"},
		{"fediverse at a one-label domain", "http://example.com/@jane.doe@corp", "http://example.com/{email}"},
		{"at sign handle kept", "http://example.com/@jane", "http://example.com/@jane"},

		{"uuid", "http://example.com/orders/123e4567-e89b-12d3-a456-426614174000/view", "http://example.com/orders/{uuid}/view"},
		{"uuid upper case", "http://example.com/123E4567-E89B-12D3-A456-426614174000.pdf", "http://example.com/{uuid}"},

		{"long hex", "http://example.com/reset/9f86d081884c7d659a2feaa0c55ad015", "http://example.com/reset/{hex}"},
		{"path parameters cut", "http://example.com/s;jsessionid=0123456789ABCDEF0123/a;v=1", "http://example.com/s/a"},
		{"hex inside segment", "http://example.com/s-0123456789ABCDEF0123", "http://example.com/{hex}"},
		{"fifteen hex: a short token", "http://example.com/x/deadbeefcafe123", "http://example.com/x/{token}"},
		{"short code", "http://example.com/invite/k9XmQ2pL", "http://example.com/invite/{token}"},
		{"seven chars kept", "http://example.com/invite/k9XmQ2p", "http://example.com/invite/k9XmQ2p"},
		{"one digit kept", "http://example.com/docs/chapter2-intro", "http://example.com/docs/chapter2-intro"},
		{"a file name kept", "http://example.com/dl/setup-v2.10.exe", "http://example.com/dl/setup-v2.10.exe"},

		{"long number", "http://example.com/account/123456/settings", "http://example.com/account/{num}/settings"},
		{"number in file name", "http://example.com/invoice-20240611.pdf", "http://example.com/{num}"},
		{"all-digit run is a number", "http://example.com/1234567890123456", "http://example.com/{num}"},

		{"jwt-like token", "http://example.com/auth/eyJhbGciOiJIUzI1NiJ9/done", "http://example.com/auth/{token}/done"},
		{"base64url token", "http://example.com/dl/Xk3_aP9-qLm2zR7wTy0u", "http://example.com/dl/{token}"},
		{"base64 token", "http://example.com/dl/aGVsbG8gd29ybGQ+Zm9v=", "http://example.com/dl/{token}"},
		{"nineteen chars: a short token", "http://example.com/dl/Xk3aP9qLm2zR7wTy0ab", "http://example.com/dl/{token}"},
		{"long letters only kept", "http://example.com/supercalifragilisticexpialidocious", "http://example.com/supercalifragilisticexpialidocious"},
		{"slug with a number", "http://example.com/how-to-bake-bread-in-2024", "http://example.com/{token}"},

		{"several", "http://example.com/a/jane@example.org/123e4567-e89b-12d3-a456-426614174000/1234567/z", "http://example.com/a/{email}/{uuid}/{num}/z"},

		// Never the userinfo, port, query or fragment.
		{"drops everything else", "https://jane:s3cret@example.com:8443/inbox?token=abc#msg", "https://example.com/inbox"},
		{"host kept as canonical", "HTTP://WWW.Bücher.Example/Ab", "http://www.xn--bcher-kva.example/Ab"},
		{"ip host", "http://3279880203/123456", "http://195.127.0.11/{num}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Canonicalize(tc.in)
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tc.in, err)
			}
			if got := Redact(c); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
