"""Paths between touchpoints and funnels of ordered steps, computed on the analytics store."""
