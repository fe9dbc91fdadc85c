#!/bin/bash
# svclab environment bootstrap, run by systemd (svclab-environment.service) inside the
# learner's environment pod: a one-node Kubernetes cluster from svclab's node image
# (kubeadm with the image's preloaded components, kindnet and the local-path storage
# class from /kind/manifests), then /run/svclab/environment-ready, which the pod's
# readiness probe waits for. The pod and Service networks stay clear of the host
# cluster's (10.244/16, 10.96/12 on kind): 10.100/16 and 10.101/16.
set -euo pipefail
ready=/run/svclab/environment-ready
mkdir -p /run/svclab
[[ -f $ready ]] && exit 0
t0=$SECONDS
until [[ -f /var/lib/svclab/images-imported ]]; do sleep 1; done
ip=$(hostname -i | awk '{print $1}')
cat >/kind/environment-kubeadm.yaml <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
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
networking: { podSubnet: 10.100.0.0/16, serviceSubnet: 10.101.0.0/16 }
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
cgroupRoot: /kubelet
failSwapOn: false
imageGCHighThresholdPercent: 100
evictionHard: { nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%" }
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
YAML
echo "svclab-environment: images imported after $((SECONDS - t0)) s; kubeadm init"
kubeadm init --config /kind/environment-kubeadm.yaml --ignore-preflight-errors=all --skip-token-print
export KUBECONFIG=/etc/kubernetes/admin.conf
sed 's|{{ .PodSubnet }}|10.100.0.0/16|g' /kind/manifests/default-cni.yaml | kubectl apply -f -
kubectl apply -f /kind/manifests/default-storage.yaml
kubectl taint nodes --all node-role.kubernetes.io/control-plane- || true
kubectl wait --for=condition=Ready node --all --timeout=900s
kubectl -n kube-system rollout status deployment coredns --timeout=900s
touch "$ready"
echo "svclab-environment: ready after $((SECONDS - t0)) s"
