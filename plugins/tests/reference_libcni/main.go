// A driver for the reference libcni (Debian golang-github-appc-cni-dev),
// used only by cnitool_reference_cache.rs to check that the reference's
// libcni and ours read each other's result cache. It names the container
// exactly as cnitool does.
//
// Usage: reference_libcni add|check|del <netconf-dir> <network> <netns> <cache-dir>
// CNI_PATH, CNI_IFNAME (default eth0) are read from the environment.
package main

import (
	"context"
	"crypto/sha512"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: reference_libcni add|check|del <netconf-dir> <network> <netns> <cache-dir>")
		os.Exit(2)
	}
	verb, dir, network, netns, cacheDir := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	list, err := libcni.LoadConfList(dir, network)
	if err != nil {
		fail(err)
	}
	ifName := os.Getenv("CNI_IFNAME")
	if ifName == "" {
		ifName = "eth0"
	}
	sum := sha512.Sum512([]byte(netns))
	rt := &libcni.RuntimeConf{
		ContainerID: fmt.Sprintf("cnitool-%x", sum[:10]),
		NetNS:       netns,
		IfName:      ifName,
		Args:        [][2]string{{"IgnoreUnknown", "1"}},
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), cacheDir, nil)
	ctx := context.Background()
	switch verb {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		_ = result.Print()
	case "check":
		err = cni.CheckNetworkList(ctx, list, rt)
	case "del":
		err = cni.DelNetworkList(ctx, list, rt)
	default:
		err = fmt.Errorf("unknown verb %q", verb)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
