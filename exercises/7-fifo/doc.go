// Package fifo is a request-reply service over named pipes (FIFOs): a
// server listens on a FIFO with a well-known name, and any process that
// knows the name can send it a request and get a reply.
//
// # The protocol
//
// A client makes a reply FIFO of its own, opens it for reading, and then
// writes one request into the server's FIFO, in a single write of at most
// [MaxRequest] bytes:
//
//	<reply FIFO path> '\n' <payload length in decimal> '\n' <payload>
//
// The server reads the request, computes the reply, opens the client's
// reply FIFO for writing and writes
//
//	<reply length in decimal> '\n' <reply>
//
// into it. The client reads the reply and removes its FIFO.
//
// # Unix only
//
// FIFOs are a Unix feature: the code of this exercise (fifo.go) is built
// on Linux and macOS only. On Windows, work in WSL or in the repository's
// dev container; there the tests stop with a line that says so.
//
// YOUR TASK is in fifo.go, which README.md explains: Listen, Serve, Close
// and Request. The tests in fifo_test.go are the contract.
package fifo
