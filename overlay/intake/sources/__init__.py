"""Donation sources the server polls or connects to (DonorDrive, Streamlabs), each run by
one process at a time across workers and hosts: see ``runner``."""
