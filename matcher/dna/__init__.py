"""DNA statistics: RMP / LR (product rule, NRC II 4.1, 4.10), kinship indices, pair comparison."""
from .compare import LocusComparison, compare_profiles, locus_passes, prum_mismatches
from .kinship import (RELATIONSHIPS, KinshipResult, compare_kinship, ibd_coefficients, ibs_count,
                      kinship_index, x1_x2)
from .stats import (METHODS, ProfileStatistics, allele_frequency, combined_probability_of_inclusion,
                    genotype_probability, match_statistics, random_match_probability)

__all__ = [
    "LocusComparison", "compare_profiles", "locus_passes", "prum_mismatches", "RELATIONSHIPS", "KinshipResult",
    "compare_kinship", "ibd_coefficients", "ibs_count", "kinship_index", "x1_x2", "METHODS", "ProfileStatistics",
    "allele_frequency", "combined_probability_of_inclusion", "genotype_probability", "match_statistics", "random_match_probability",
]
