pub mod brctl;
