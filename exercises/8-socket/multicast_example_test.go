//go:build linux

package socket

// This example is not graded and uses nothing you write: it shows UDP
// multicast, one datagram delivered to every member of a group, in a way
// that cannot leak a single datagram off the machine. `go test` runs it
// (and checks what it prints) on Linux, which includes WSL and the dev
// container. README.md walks through it.

import (
	"fmt"
	"net"
	"syscall"
	"time"
)

func Example_multicast() {
	// 239.0.0.0/8 is administratively scoped: routers keep it inside
	// an organisation. This program keeps it inside the machine as well.
	group := net.IPv4(239, 0, 0, 250)

	// The loopback interface: the one with the FlagLoopback flag.
	ifaces, err := net.Interfaces()
	if err != nil {
		fmt.Println("net.Interfaces:", err)
		return
	}
	var lo *net.Interface
	for i := range ifaces {
		if ifaces[i].Flags&net.FlagLoopback != 0 {
			lo = &ifaces[i]
			break
		}
	}
	if lo == nil {
		fmt.Println("no loopback interface")
		return
	}

	// Two members join the group on the loopback interface only, on the
	// same port (port 0 for the first: the system picks a free one).
	first, err := net.ListenMulticastUDP("udp4", lo, &net.UDPAddr{IP: group})
	if err != nil {
		fmt.Println("join:", err)
		return
	}
	defer first.Close()
	port := first.LocalAddr().(*net.UDPAddr).Port
	second, err := net.ListenMulticastUDP("udp4", lo, &net.UDPAddr{IP: group, Port: port})
	if err != nil {
		fmt.Println("join:", err)
		return
	}
	defer second.Close()

	// The sender is an ordinary UDP socket on 127.0.0.1. Three socket
	// options, set through the raw socket, pin its multicast traffic to
	// this machine:
	//   IP_MULTICAST_IF   = 127.0.0.1: send group datagrams out of lo,
	//                       whatever the routing table says;
	//   IP_MULTICAST_TTL  = 0: no router, and no network card, may pass
	//                       them on (1 would allow one hop);
	//   IP_MULTICAST_LOOP = 1: deliver a copy to the members on this
	//                       host, which is the only delivery left.
	sender, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println("sender:", err)
		return
	}
	defer sender.Close()
	raw, err := sender.SyscallConn()
	if err != nil {
		fmt.Println("sender:", err)
		return
	}
	var optErr error
	err = raw.Control(func(fd uintptr) {
		s := int(fd)
		optErr = syscall.SetsockoptInet4Addr(s, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, [4]byte{127, 0, 0, 1})
		if optErr == nil {
			optErr = syscall.SetsockoptInt(s, syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, 0)
		}
		if optErr == nil {
			optErr = syscall.SetsockoptInt(s, syscall.IPPROTO_IP, syscall.IP_MULTICAST_LOOP, 1)
		}
	})
	if err == nil {
		err = optErr
	}
	if err != nil {
		fmt.Println("setsockopt:", err)
		return
	}

	// One datagram to the group reaches both members.
	if _, err := sender.WriteToUDP([]byte("hello, group"), &net.UDPAddr{IP: group, Port: port}); err != nil {
		fmt.Println("send:", err)
		return
	}
	for i, member := range []*net.UDPConn{first, second} {
		member.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1500)
		n, from, err := member.ReadFromUDP(buf)
		if err != nil {
			fmt.Printf("member %d: %v\n", i+1, err)
			continue
		}
		fmt.Printf("member %d got %q from a loopback address: %v\n", i+1, buf[:n], from.IP.IsLoopback())
	}
	// Output:
	// member 1 got "hello, group" from a loopback address: true
	// member 2 got "hello, group" from a loopback address: true
}
