fn main() {
    std::process::exit(netplumb::ifctl::main(netplumb::args()));
}
