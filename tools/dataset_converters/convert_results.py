"""Convert a results file between attribute forms.

A results file (COCO's results format: one detection per entry) carries
its attributes in one of these forms:

* ``own``: ``attributes`` ``{group: value | [values]}`` and
  ``attribute_scores`` ``{group: [probability of every value]}``, as
  ``AttrCocoMetric`` writes them;
* ``fashionpedia``: ``attribute_ids``, the predicted attribute ids;
* ``paco``: ``attribute_probs``, one probability per attribute id (list
  index = attribute id).

The ground truth gives the groups and the attribute ids. The input form is
read from the fields; every other field (boxes, masks, scores) is copied.
Converting to ``fashionpedia`` keeps the predicted values (``attributes``)
and drops the probabilities, which that form does not have; converting
``fashionpedia`` to ``own`` gives the listed values probability 1 and the
others 0. Converting ``paco`` to ``own`` gives every group the
probabilities of its values (``attribute_scores``) and predicts the values
with probability >= 0.5 (``attributes``); converting ``own`` to ``paco``
needs the probabilities of every group and drops ``attributes``.

Examples:
    python tools/dataset_converters/convert_results.py \\
        instances_attributes_val2020.json work_dirs/val/results.segm.json \\
        results_fp.json --to fashionpedia
    python tools/dataset_converters/convert_results.py \\
        instances_attributes_val2020.json fake_results.json own.json \\
        --to own
    python tools/dataset_converters/convert_results.py \\
        paco_lvis_v1_val.json work_dirs/val/results.segm.json \\
        results_paco.json --to paco

A result whose attribute fields cannot be read is an error that names it
(exit status 1).
"""

import argparse
import json
import sys
from typing import List, Optional

from mmmultilabel.datasets.formats import read_annotation_file
from mmmultilabel.evaluation import AttributeVocabulary, convert_results
from mmmultilabel.evaluation.result_forms import WRITERS
from mmmultilabel.utils import InputError


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the attribute fields of a results file '
        "between this project's form and the Fashionpedia / PACO forms"
    )
    parser.add_argument(
        'gt', help='ground-truth file (gives groups and attribute ids)'
    )
    parser.add_argument('results', help='results file to convert')
    parser.add_argument('out', help='where to write the converted results')
    parser.add_argument(
        '--to',
        required=True,
        choices=list(WRITERS),
        help='form of the output',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[dict]:
    """Convert, write and return the results; bad input exits with 1."""
    args = parse_args(argv)
    try:
        gt = read_annotation_file(args.gt)
        results = read_annotation_file(args.results)
        vocab = AttributeVocabulary(gt, args.gt)
        out = convert_results(results, vocab, args.to, args.results)
    except (InputError, FileNotFoundError) as err:
        print(f'convert_results.py: error: {err}', file=sys.stderr)
        raise SystemExit(1) from None
    with open(args.out, 'w') as f:
        json.dump(out, f)
    print(f'{len(out)} results written to {args.out} ({args.to} form)')
    return out


if __name__ == '__main__':
    main(sys.argv[1:])
