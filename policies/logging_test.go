package policies_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

var discard = zerolog.Nop()

// logLines decodes the JSON lines zerolog wrote.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	dec := json.NewDecoder(buf)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return lines
		} else if err != nil {
			t.Fatalf("decoding the log: %v", err)
		}
		lines = append(lines, m)
	}
}

func TestTrafficLogging(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name      string
		maxBytes  int
		data      string
		shown     string
		truncated bool
	}{
		{"short", 10, "hello\r\n", "hello\r\n", false},
		{"exact", 7, "hello\r\n", "hello\r\n", false},
		{"cut", 4, "hello\r\n", "hell", true},
		{"binary", 10, "\x00\xff\x01", "\x00\xff\x01", false},
		{"default", 0, long, long[:policies.DefaultLogBytes], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := zerolog.New(&buf).Level(zerolog.DebugLevel)
			tr := transporttest.New()
			w, _ := connect(t, policies.TrafficLogging(&testFactory{echo: true}, logger, tt.maxBytes), tr)
			w.DataReceived([]byte(tt.data))
			w.ConnectionLost(transport.ErrConnectionDone)

			lines := logLines(t, &buf)
			var msgs []string
			for _, l := range lines {
				msgs = append(msgs, fmt.Sprint(l["message"]))
				if l["level"] != "debug" || l["conn"] != float64(1) {
					t.Errorf("line %v: want level debug and conn 1", l)
				}
			}
			if want := "connection made,data received,data written,connection lost"; strings.Join(msgs, ",") != want {
				t.Fatalf("messages %q, want %s", msgs, want)
			}
			for _, l := range lines[1:3] {
				if got, want := l["data"], strconv.Quote(tt.shown); got != want {
					t.Errorf("%s: data %v, want %s", l["message"], got, want)
				}
				if got, want := l["len"], float64(len(tt.data)); got != want {
					t.Errorf("%s: len %v, want %v", l["message"], got, want)
				}
				if got := l["truncated"]; got != tt.truncated {
					t.Errorf("%s: truncated %v, want %v", l["message"], got, tt.truncated)
				}
			}
			made, lost := lines[0], lines[3]
			if got, want := made["peer"], tr.RemoteAddr().String(); got != want {
				t.Errorf("made: peer %v, want %v", got, want)
			}
			if got, want := made["local"], tr.LocalAddr().String(); got != want {
				t.Errorf("made: local %v, want %v", got, want)
			}
			if got, want := lost["reason"], transport.ErrConnectionDone.Error(); got != want {
				t.Errorf("lost: reason %v, want %v", got, want)
			}
			n := float64(len(tt.data))
			if lost["read"] != n || lost["written"] != n || lost["peer"] != tr.RemoteAddr().String() {
				t.Errorf("lost: %v, want read and written %v and the peer", lost, n)
			}
		})
	}
}

func TestTrafficLoggingIDsAndRefusals(t *testing.T) {
	var buf bytes.Buffer
	logger := zerolog.New(&buf)
	f := &testFactory{}
	wf := policies.TrafficLogging(f, logger, 0)
	connect(t, wf, transporttest.New())
	f.refuse = true
	if wf.BuildProtocol(tcp("2001:db8::9", 7)) != nil {
		t.Fatal("refused connection admitted")
	}
	f.refuse = false
	w, _ := connect(t, wf, transporttest.New())
	_ = w.WriteSequence([][]byte{[]byte("ab"), nil, []byte("c")})

	var got []string
	for _, l := range logLines(t, &buf) {
		got = append(got, fmt.Sprintf("%v %v %v", l["conn"], l["message"], l["data"]))
		if l["message"] == "connection refused" && l["peer"] != "[2001:db8::9]:7" {
			t.Errorf("refusal logged with peer %v", l["peer"])
		}
	}
	want := []string{
		"1 connection made <nil>",
		"2 connection refused <nil>",
		"3 connection made <nil>",
		`3 data written "ab"`,
		`3 data written "c"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTrafficLoggingAboveDebug(t *testing.T) {
	var buf bytes.Buffer
	logger := zerolog.New(&buf).Level(zerolog.InfoLevel)
	w, _ := connect(t, policies.TrafficLogging(&testFactory{echo: true}, logger, 0), transporttest.New())
	w.DataReceived([]byte("quiet"))
	w.ConnectionLost(transport.ErrConnectionDone)
	if buf.Len() != 0 {
		t.Errorf("logged %q at info level, want nothing", buf.String())
	}
}

func ExampleTrafficLogging() {
	logger := zerolog.New(os.Stdout)
	f := factory.ForProtocol(func() protocol.Protocol { return &echo{} })
	logged := policies.TrafficLogging(f, logger, 4)

	tr := transporttest.New()
	p := logged.BuildProtocol(tr.RemoteAddr())
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("hello\n"))
	p.ConnectionLost(transport.ErrConnectionDone)
	// Output:
	// {"level":"debug","conn":1,"peer":"192.0.2.1:12345","local":"127.0.0.1:8000","message":"connection made"}
	// {"level":"debug","conn":1,"len":6,"data":"\"hell\"","truncated":true,"message":"data received"}
	// {"level":"debug","conn":1,"len":6,"data":"\"hell\"","truncated":true,"message":"data written"}
	// {"level":"debug","conn":1,"peer":"192.0.2.1:12345","reason":"transport: connection closed cleanly","read":6,"written":6,"message":"connection lost"}
}
