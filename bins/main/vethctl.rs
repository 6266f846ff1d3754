fn main() {
    std::process::exit(netplumb::vethctl::main(netplumb::args()));
}
