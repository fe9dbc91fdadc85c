// svclab-web: the backend pods of svclab's labs. It answers every request with
// a small page naming the pod that served it, so a learner (and a check) can see
// which backend a Service picked: spreading, session affinity, endpoints changes.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func podIP() string {
	if ip := os.Getenv("POD_IP"); ip != "" {
		return ip
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "unknown"
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return "unknown"
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "80"
	}
	host, _ := os.Hostname()
	ip := podIP()
	message := os.Getenv("MESSAGE")
	if message == "" {
		message = "Welcome to nginx!"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		client, _, _ := net.SplitHostPort(r.RemoteAddr)
		w.Header().Set("X-Served-By", host)
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, "{\"message\":%q,\"pod\":%q,\"podIP\":%q,\"client\":%q,\"host\":%q,\"path\":%q}\n", message, host, ip, client, r.Host, r.URL.Path)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%s</title></head><body>\n<h1>%s</h1>\n<p>pod: %s</p>\n<p>pod IP: %s</p>\n<p>client: %s</p>\n<p>host: %s</p>\n</body></html>\n", message, message, host, ip, client, r.Host)
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("svclab-web %s (%s) listening on :%s", host, ip, port)
	log.Fatal(srv.ListenAndServe())
}
