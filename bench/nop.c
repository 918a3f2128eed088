/*
 * nop.c - the smallest command: exits 0.  Linked statically when the
 * compiler allows, so that its resident size never hides the wrapper's
 * own in a peak-RSS figure.
 */
int
main(void)
{
	return 0;
}
