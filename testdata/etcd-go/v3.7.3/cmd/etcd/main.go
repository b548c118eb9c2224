// Command etcd is the etcd server, built from the Go module
// go.etcd.io/etcd/server/v3 at the version go.mod requires. Used only by
// the tests (see testdata/etcd-go/README.md).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
