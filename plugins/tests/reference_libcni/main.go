// A driver for the reference libcni (Debian golang-github-appc-cni-dev),
// used by cnitool_reference_cache.rs and libcni_single_reference.rs to check
// that the reference's libcni and ours read each other's result cache. It
// names the container exactly as cnitool does.
//
// Usage: reference_libcni add|check|del <netconf-dir> <network> <netns> <cache-dir>
// add-conf|check-conf|del-conf run one .conf through the single-plugin APIs
// (LoadConf, AddNetwork, CheckNetwork, DelNetwork); validate-conf prints
// ValidateNetwork's capabilities (netns is then ignored).
// CNI_PATH, CNI_IFNAME (default eth0) are read from the environment.
package main

import (
	"context"
	"crypto/sha512"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: reference_libcni add|check|del <netconf-dir> <network> <netns> <cache-dir>")
		os.Exit(2)
	}
	verb, dir, network, netns, cacheDir := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
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
	if strings.HasSuffix(verb, "-conf") {
		single(ctx, cni, strings.TrimSuffix(verb, "-conf"), dir, network, rt)
		return
	}
	list, err := libcni.LoadConfList(dir, network)
	if err != nil {
		fail(err)
	}
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

func single(ctx context.Context, cni *libcni.CNIConfig, verb, dir, network string, rt *libcni.RuntimeConf) {
	conf, err := libcni.LoadConf(dir, network)
	if err != nil {
		fail(err)
	}
	switch verb {
	case "add":
		result, err := cni.AddNetwork(ctx, conf, rt)
		if err != nil {
			fail(err)
		}
		_ = result.Print()
	case "check":
		err = cni.CheckNetwork(ctx, conf, rt)
	case "del":
		err = cni.DelNetwork(ctx, conf, rt)
	case "validate":
		var caps []string
		caps, err = cni.ValidateNetwork(ctx, conf)
		sort.Strings(caps)
		fmt.Println(strings.Join(caps, ","))
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
