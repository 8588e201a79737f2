package endpoint_test

import (
	"fmt"

	"github.com/whirl-go/whirl/endpoint"
)

func ExampleParseServer() {
	for _, s := range []string{
		"tcp:8080",
		"tcp:8080:interface=127.0.0.1:backlog=50",
		`tcp6:8080:interface=\:\:1`,
		"unix:/run/app.sock:mode=660",
		"systemd:domain=INET:index=0",
		"tcp:8080:idle=5m:maxwrite=16MiB",
		"[::1]:0",
		"ssl:443:privateKey=key.pem:certKey=cert.pem",
		"tls:443",
	} {
		srv, err := endpoint.ParseServer(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-7s %-4s %-16q %s\n", srv.Kind, srv.Network, srv.Addr, srv)
	}
	// Output:
	// tcp     tcp  ":8080"          tcp:8080
	// tcp     tcp  "127.0.0.1:8080" tcp:8080:interface=127.0.0.1:backlog=50
	// tcp6    tcp6 "[::1]:8080"     tcp6:8080:interface=\:\:1
	// unix    unix "/run/app.sock"  unix:/run/app.sock:mode=660
	// systemd tcp  ""               systemd:domain=INET:index=0
	// tcp     tcp  ":8080"          tcp:8080:idle=300:maxwrite=16MiB
	// tcp     tcp  "[::1]:0"        tcp:0:interface=\:\:1
	// ssl     tcp  ":443"           ssl:443:privateKey=key.pem:certKey=cert.pem
	// endpoint: "tls:443": endpoint type "tls" is for clients only (a TLS server is ssl:PORT:privateKey=KEY.pem:certKey=CERT.pem)
}

func ExampleParseClient() {
	for _, s := range []string{
		"tcp:example.com:80",
		"tcp:host=::1:port=8080:timeout=5",
		"unix:path=/run/app.sock:checkPID=1",
		"example.com:443",
		"tls:example.com:443",
		"udp:53",
	} {
		c, err := endpoint.ParseClient(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s %v -> %s\n", c.Network, c.Addr, c.Timeout, c)
	}
	// Output:
	// tcp example.com:80 0s -> tcp:host=example.com:port=80
	// tcp [::1]:8080 5s -> tcp:host=\:\:1:port=8080:timeout=5
	// unix /run/app.sock 0s -> unix:/run/app.sock:checkPID=1
	// tcp example.com:443 0s -> tcp:host=example.com:port=443
	// tcp example.com:443 0s -> tls:host=example.com:port=443
	// endpoint: "udp:53": endpoint type "udp" is for servers only (clients take tcp, unix and tls)
}
