#!/bin/bash
# svclab environment bootstrap, run by systemd (svclab-environment.service) inside the
# learner's environment pod: a one-node Kubernetes cluster from svclab's node image
# (kubeadm with the image's preloaded components, kindnet and the local-path storage
# class from /kind/manifests), then /run/svclab/environment-ready, which the pod's
# readiness probe waits for. The runner then installs learner access (runner/src/access)
# through the Kubernetes API's exec and marks the Environment Ready.
#
# The learner's cluster looks like `svclab up --workers 0` makes it, because the labs
# name its addresses: Services in 10.96.0.0/12 (lab 02's Service is 10.97.97.97), pods in
# 10.244.0.0/16, the node `<pod name>-control-plane`, kubeadm's configuration in
# /kind/kubeadm.conf (learner access issues the learner's certificate with it).
# The host cluster may use the same ranges (kind and flannel do). Services may overlap:
# inside this pod's network namespace the nested cluster's rules come first, and a
# ClusterIP it does not know goes on to the host's. Pod addresses may not: the nested
# node's /24 and gateway live in this same namespace, beside the pod's own address and
# its default route, so its pods take the far end of 10.244/16 (SVCLAB_POD_SUBNET,
# 10.244.200.0/21 by default: the node gets 10.244.200.0/24), away from the /24s a host
# cluster hands its first nodes.
set -euo pipefail
ready=/run/svclab/environment-ready
mkdir -p /run/svclab
[[ -f $ready ]] && exit 0
t0=$SECONDS
until [[ -f /var/lib/svclab/images-imported ]]; do sleep 1; done
ip=$(hostname -i | awk '{print $1}')
node="$(hostname)-control-plane"
pods=${SVCLAB_POD_SUBNET:-10.244.200.0/21}
# CoreDNS forwards other names here: not the pod's resolv.conf, whose 10.96.0.10 is CoreDNS itself in here.
echo "nameserver ${SVCLAB_UPSTREAM_DNS:-192.0.2.53}" >/kind/environment-resolv.conf
cat >/kind/kubeadm.conf <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: "$node"
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    - { name: node-ip, value: "$ip" }
localAPIEndpoint:
  advertiseAddress: "$ip"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $(cat /kind/version)
clusterName: svclab
controlPlaneEndpoint: "$ip:6443"
# 127.0.0.1: the workstation container shares the pod's network namespace and uses it.
apiServer: { certSANs: [127.0.0.1, localhost, "$ip"] }
networking: { podSubnet: "$pods", serviceSubnet: 10.96.0.0/12 }
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
cgroupRoot: /kubelet
failSwapOn: false
resolvConf: /kind/environment-resolv.conf
imageGCHighThresholdPercent: 100
evictionHard: { nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%" }
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
YAML
echo "svclab-environment: images imported after $((SECONDS - t0)) s; kubeadm init"
kubeadm init --config /kind/kubeadm.conf --ignore-preflight-errors=all --skip-token-print
export KUBECONFIG=/etc/kubernetes/admin.conf
sed "s|{{ .PodSubnet }}|$pods|g" /kind/manifests/default-cni.yaml | kubectl apply -f -
kubectl apply -f /kind/manifests/default-storage.yaml
kubectl taint nodes --all node-role.kubernetes.io/control-plane- || true
# As `svclab up --workers 0`: the control plane is the edge node later labs route through.
kubectl label --overwrite nodes --all svclab.io/edge=true
kubectl wait --for=condition=Ready node --all --timeout=900s
kubectl -n kube-system rollout status deployment coredns --timeout=900s
touch "$ready"
echo "svclab-environment: ready after $((SECONDS - t0)) s"
