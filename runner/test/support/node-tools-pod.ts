// A pod that borrows the node's tools (dig, curl, openssl under /usr) through hostPath
// mounts, on the preloaded pause image: lab images have no shell, and nothing is pulled.
export function nodeToolsPod(name: string, namespace: string, pauseImage: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{
        name: 'client', image: pauseImage, imagePullPolicy: 'Never', command: ['/usr/bin/sleep', 'infinity'],
        volumeMounts: [{ name: 'usr', mountPath: '/usr', readOnly: true }, { name: 'lib', mountPath: '/lib', readOnly: true }, { name: 'lib64', mountPath: '/lib64', readOnly: true }],
      }],
      volumes: [
        { name: 'usr', hostPath: { path: '/usr', type: 'Directory' } },
        { name: 'lib', hostPath: { path: '/usr/lib', type: 'Directory' } },
        { name: 'lib64', hostPath: { path: '/usr/lib64', type: 'Directory' } },
      ],
    },
  };
}
