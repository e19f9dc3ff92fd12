// pstest-server: Google's own Pub/Sub fake (cloud.google.com/go/pubsub/v2/pstest)
// on 127.0.0.1 for vexil's tests, with two more listeners beside it:
//
//	-port P               pstest itself (gRPC, cleartext HTTP/2), refusing
//	                      with NOT_FOUND a Publish to a topic that has no
//	                      subscription yet (see subscribed)
//	-small-port S         a second pstest whose Publish refuses, with
//	                      INVALID_ARGUMENT, a request holding a message of
//	                      more than -max-message-bytes bytes of data (the
//	                      check production Pub/Sub makes at 10 MB)
//	-auth-port A -token T a gateway in front of the first pstest that lets
//	                      a call through only with "authorization: Bearer
//	                      T..." (a token starting with T) and a
//	                      grpc-timeout, as Google's front end needs
//	                      credentials; otherwise UNAUTHENTICATED
//	-tls-port L -cert-file F  the same gateway over TLS (h2 chosen by ALPN,
//	                      as production Pub/Sub is spoken to), its
//	                      self-signed certificate for 127.0.0.1 written to F
//
// It runs until SIGTERM or SIGINT.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// sizeLimit refuses a Publish holding a message whose data is over max bytes.
type sizeLimit int

func (max sizeLimit) React(req interface{}) (bool, interface{}, error) {
	if r, ok := req.(*pubsubpb.PublishRequest); ok {
		for _, m := range r.Messages {
			if len(m.Data) > int(max) {
				return true, nil, status.Errorf(codes.InvalidArgument,
					"message data of %d bytes is over the limit of %d bytes", len(m.Data), int(max))
			}
		}
	}
	return false, nil, nil
}

// subscribed refuses a Publish to a topic until a subscription to it exists.
// Pub/Sub hands a subscription only what is published after it is made, and
// a test makes a topic and its subscription in two calls: an exporter retry
// landing between them would publish to nobody, and the test would count the
// loss against vexil. Refused, the retry comes again later and nothing is
// lost. Both reactors run under pstest's own lock, so a Publish sees either
// no subscription or one that will receive its messages.
type subscribed struct {
	mu     sync.Mutex
	topics map[string]bool
}

func (s *subscribed) React(req interface{}) (bool, interface{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r := req.(type) {
	case *pubsubpb.Subscription:
		s.topics[r.Topic] = true
	case *pubsubpb.PublishRequest:
		if !s.topics[r.Topic] {
			return true, nil, status.Errorf(codes.NotFound,
				"topic %q has no subscription yet (a test server's refusal)", r.Topic)
		}
	}
	return false, nil, nil
}

func big1() *big.Int { return big.NewInt(1) }

func h2c() *http.Protocols {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &p
}

// gateway checks the bearer token, then hands the call to pstest.
func gateway(token, backend string) http.Handler {
	target, _ := url.Parse("http://" + backend)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{Protocols: h2c()}
	refuse := func(w http.ResponseWriter, code codes.Code, msg string) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", fmt.Sprint(int(code)))
		w.Header().Set("Grpc-Message", url.PathEscape(msg))
		w.WriteHeader(http.StatusOK)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The whole request first: answering before it is read makes Go
		// reset the stream (RST_STREAM NO_ERROR), which libcurl 7.88 takes
		// for an error and drops the answer with.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		switch {
		case !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+token):
			refuse(w, codes.Unauthenticated, "Request had invalid authentication credentials.")
		case r.Header.Get("Grpc-Timeout") == "":
			refuse(w, codes.InvalidArgument, "no grpc-timeout")
		default:
			proxy.ServeHTTP(w, r)
		}
	})
	return handler
}

// selfSigned makes a certificate for 127.0.0.1 and writes it (PEM) to path.
func selfSigned(path string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big1(), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func main() {
	port := flag.Int("port", 8085, "pstest's port")
	smallPort := flag.Int("small-port", 0, "a second pstest with a message size limit")
	maxBytes := flag.Int("max-message-bytes", 1<<20, "the small pstest's limit")
	authPort := flag.Int("auth-port", 0, "a token-checking gateway to the first pstest")
	token := flag.String("token", "", "what the gateway's bearer tokens start with")
	tlsPort := flag.Int("tls-port", 0, "the gateway over TLS")
	certFile := flag.String("cert-file", "", "where the TLS gateway's certificate goes")
	flag.Parse()
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(*port))
	subs := &subscribed{topics: map[string]bool{}}
	srv := pstest.NewServerWithAddress(addr,
		pstest.ServerReactorOption{FuncName: "CreateSubscription", Reactor: subs},
		pstest.ServerReactorOption{FuncName: "Publish", Reactor: subs})
	defer srv.Close()
	if *smallPort != 0 {
		small := pstest.NewServerWithAddress(net.JoinHostPort("127.0.0.1", fmt.Sprint(*smallPort)),
			pstest.ServerReactorOption{FuncName: "Publish", Reactor: sizeLimit(*maxBytes)})
		defer small.Close()
	}
	if *authPort != 0 {
		srv := &http.Server{Addr: net.JoinHostPort("127.0.0.1", fmt.Sprint(*authPort)),
			Handler: gateway(*token, addr), Protocols: h2c()}
		go func() { log.Fatal(srv.ListenAndServe()) }()
	}
	if *tlsPort != 0 {
		cert := selfSigned(*certFile)
		srv := &http.Server{Addr: net.JoinHostPort("127.0.0.1", fmt.Sprint(*tlsPort)),
			Handler: gateway(*token, addr), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
		go func() { log.Fatal(srv.ListenAndServeTLS("", "")) }()
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
