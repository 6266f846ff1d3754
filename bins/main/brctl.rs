fn main() {
    std::process::exit(netplumb::brctl::main(netplumb::args()));
}
