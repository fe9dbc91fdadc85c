// kindnetd is svclab's own minimal stand-in for kind's kindnetd (whose module,
// sigs.k8s.io/kind/images/kindnetd, the Go module proxy does not serve).
//
// It runs as a hostNetwork DaemonSet pod on every node and, every few seconds:
//   - writes a CNI config (ptp + host-local IPAM on this node's podCIDR, plus
//     portmap) once the node has a podCIDR, which makes the node Ready;
//   - keeps one route per other node: that node's podCIDR via its InternalIP;
//   - masquerades traffic from pods to anything outside the pod subnet.
//
// Stdlib only: it reads the API with the pod's service account token and shells
// out to `ip` and `iptables`, which the image carries.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	saDir      = "/var/run/secrets/kubernetes.io/serviceaccount"
	cniConfDir = "/etc/cni/net.d"
	cniConf    = "10-svclab.conflist"
	masqChain  = "SVCLAB-MASQ"
	period     = 5 * time.Second
)

type nodeList struct {
	Items []node `json:"items"`
}

type node struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		PodCIDR  string   `json:"podCIDR"`
		PodCIDRs []string `json:"podCIDRs"`
	} `json:"spec"`
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
}

func (n node) ipv4CIDRs() []string {
	cidrs := n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		cidrs = []string{n.Spec.PodCIDR}
	}
	var out []string
	for _, c := range cidrs {
		if ip, _, err := net.ParseCIDR(c); err == nil && ip.To4() != nil {
			out = append(out, c)
		}
	}
	return out
}

func (n node) internalIPv4() string {
	for _, a := range n.Status.Addresses {
		if ip := net.ParseIP(a.Address); a.Type == "InternalIP" && ip != nil && ip.To4() != nil {
			return a.Address
		}
	}
	return ""
}

type syncer struct {
	client    *http.Client
	apiURL    string
	nodeName  string
	podSubnet string
	routes    map[string]string // podCIDR -> gateway we installed
}

func newSyncer() (*syncer, error) {
	// kind adds CONTROL_PLANE_ENDPOINT (host:port) to the DaemonSet, so the node
	// network comes up without waiting for kube-proxy to program the Service IP.
	endpoint := os.Getenv("CONTROL_PLANE_ENDPOINT")
	if endpoint == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		endpoint = net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT"))
	}
	nodeName, podSubnet := os.Getenv("NODE_NAME"), os.Getenv("POD_SUBNET")
	if endpoint == "" || nodeName == "" || podSubnet == "" {
		return nil, fmt.Errorf("need CONTROL_PLANE_ENDPOINT (or KUBERNETES_SERVICE_HOST/PORT), NODE_NAME and POD_SUBNET in the environment")
	}
	if _, _, err := net.ParseCIDR(podSubnet); err != nil {
		return nil, fmt.Errorf("POD_SUBNET %q: %w", podSubnet, err)
	}
	ca, err := os.ReadFile(filepath.Join(saDir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &syncer{
		client: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		},
		apiURL:    "https://" + endpoint,
		nodeName:  nodeName,
		podSubnet: podSubnet,
		routes:    map[string]string{},
	}, nil
}

func (s *syncer) listNodes(ctx context.Context) ([]node, error) {
	// The token is re-read every time: the kubelet rotates projected tokens.
	token, err := os.ReadFile(filepath.Join(saDir, "token"))
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.apiURL+"/api/v1/nodes", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/nodes: %s", resp.Status)
	}
	var list nodeList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func (s *syncer) writeCNIConfig(podCIDR string) error {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "svclab",
		"plugins": []any{
			map[string]any{
				"type":   "ptp",
				"ipMasq": false, // masquerading is ours, so pod-to-pod keeps source IPs
				"mtu":    1500,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(cniConfDir, cniConf)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	log.Printf("writing %s for podCIDR %s", path, podCIDR)
	return os.Rename(tmp, path)
}

func (s *syncer) ensureMasquerade() error {
	// -N fails when the chain exists; that is fine.
	_ = run("iptables", "-t", "nat", "-N", masqChain)
	rules := [][]string{
		{"POSTROUTING", "-s", s.podSubnet, "-m", "comment", "--comment", "svclab pod egress", "-j", masqChain},
		{masqChain, "-d", s.podSubnet, "-j", "RETURN"},
		{masqChain, "-m", "addrtype", "!", "--dst-type", "LOCAL", "-j", "MASQUERADE"},
	}
	for _, r := range rules {
		check := append([]string{"-t", "nat", "-C"}, r...)
		if run("iptables", check...) == nil {
			continue
		}
		if err := run("iptables", append([]string{"-t", "nat", "-A"}, r...)...); err != nil {
			return err
		}
	}
	return nil
}

func (s *syncer) syncOnce(ctx context.Context) error {
	nodes, err := s.listNodes(ctx)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, n := range nodes {
		if n.Metadata.Name == s.nodeName {
			if cidrs := n.ipv4CIDRs(); len(cidrs) > 0 {
				if err := s.writeCNIConfig(cidrs[0]); err != nil {
					return err
				}
			}
			continue
		}
		gw := n.internalIPv4()
		if gw == "" {
			continue
		}
		for _, c := range n.ipv4CIDRs() {
			want[c] = gw
		}
	}
	for cidr, gw := range want {
		if s.routes[cidr] == gw {
			continue
		}
		if err := run("ip", "route", "replace", cidr, "via", gw); err != nil {
			return err
		}
		log.Printf("route %s via %s", cidr, gw)
		s.routes[cidr] = gw
	}
	for cidr := range s.routes {
		if _, ok := want[cidr]; !ok {
			if err := run("ip", "route", "del", cidr); err != nil {
				log.Print(err)
			}
			log.Printf("removed route %s", cidr)
			delete(s.routes, cidr)
		}
	}
	return s.ensureMasquerade()
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	s, err := newSyncer()
	if err != nil {
		log.Fatal(err)
	}
	// Pods on this node route through it to other nodes.
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
		log.Printf("enabling ip_forward: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log.Printf("kindnetd (svclab) on node %s, pod subnet %s", s.nodeName, s.podSubnet)
	for {
		if err := s.syncOnce(ctx); err != nil {
			log.Printf("sync: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(period):
		}
	}
}
