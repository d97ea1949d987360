"""Emergence signals on hand-written completions: which responses check themselves, which are an
"aha" (a check that finds a wrong result and turns it right), and the aggregate over a batch."""

import pytest

from r1lab.rewards.signals import emergence_stats, has_check, is_aha, reflection_words_per_1k

# Compute 7 + 8 - 9 . = 6: each step worked again as its check, the chain going on from the checked
# value and a note where the two differ (redo, then flag) ...
STEP_CHECKS = (" <think> 7 + 8 = 15 . check 7 + 8 = 15 . 15 - 9 = 6 . check 15 - 9 = 6 . </think> "
               "<answer> 6 </answer>")
STEP_AHA = (" <think> 7 + 8 = 14 . check 7 + 8 = 15 . wait , not 14 . 15 - 9 = 6 . check 15 - 9 = 6 . "
            "</think> <answer> 6 </answer>")
STEP_AHA_CJK = (" <think> 7 + 8 = 14 . 检查 7 + 8 = 15 . 等等 , 不是 14 . 15 - 9 = 6 . 检查 15 - 9 = 6 . "
                "</think> <answer> 6 </answer>")
# ... a check by the inverse operation, flag, then redo ...
STEP_AHA_INVERSE = (" <think> 7 + 8 = 14 . check 14 - 8 = 6 . wait , not 7 . 7 + 8 = 15 . check 15 - 8 = 7 . "
                    "15 - 9 = 6 . check 6 + 9 = 15 . </think> <answer> 6 </answer>")
# ... an inverse check that slipped, flagging a right step, redone to the same value: the check's own
# arithmetic was corrected, not the work ...
STEP_FALSE_FLAG = (" <think> 7 + 8 = 15 . check 15 - 8 = 6 . wait , not 7 . 7 + 8 = 15 . check 15 - 8 = 7 . "
                   "15 - 9 = 6 . check 6 + 9 = 15 . </think> <answer> 6 </answer>")
# ... a check that came out different but was not noted: the chain went on from it, but nothing was
# found wrong in so many words ...
STEP_UNNOTED = (" <think> 7 + 8 = 14 . check 7 + 8 = 15 . 15 - 9 = 6 . check 15 - 9 = 6 . </think> "
                "<answer> 6 </answer>")
# ... a check that slipped onto the first pass's slip: ends wrong ...
STEP_MISSED = (" <think> 7 + 8 = 14 . check 7 + 8 = 14 . 14 - 9 = 5 . check 14 - 9 = 5 . </think> "
               "<answer> 5 </answer>")
# ... and a note with no different value behind it (a small model writes such things).
STEP_EMPTY_NOTE = (" <think> 7 + 8 = 15 . check 7 + 8 = 15 . wait , not 15 . 15 - 9 = 6 . check 15 - 9 = 6 . "
                   "</think> <answer> 6 </answer>")

# Compute 7 + 18 - 9 . = 16: a step checked another way (the operand split into its ten and its digit),
# a flag where the two differ, and the chain going on from the check's value ...
ROUTE_AHA = (" <think> 7 + 18 = 24 . check 7 + 10 = 17 . 17 + 8 = 25 . wait , that was wrong . 25 - 9 = 16 . "
             "</think> <answer> 16 </answer>")
ROUTE_AHA_CJK = (" <think> 7 + 18 = 24 . 检查 7 + 10 = 17 . 17 + 8 = 25 . 等等 , 错了 . 25 - 9 = 16 . </think> "
                 "<answer> 16 </answer>")
# ... the last step checked, so the answer is what goes on from the check ...
ROUTE_AHA_LAST = (" <think> 9 - 2 = 7 . 7 + 18 = 24 . check 7 + 10 = 17 . 17 + 8 = 25 . wait , that was wrong . "
                  "</think> <answer> 25 </answer>")
# ... the two agree, and nothing is flagged ...
ROUTE_AGREES = (" <think> 7 + 18 = 25 . check 7 + 10 = 17 . 17 + 8 = 25 . 25 - 9 = 16 . </think> "
                "<answer> 16 </answer>")
# ... a flag although the two agree (a small model writes such things) ...
ROUTE_EMPTY_FLAG = (" <think> 7 + 18 = 25 . check 7 + 10 = 17 . 17 + 8 = 25 . wait , that was wrong . 25 - 9 = 16 . "
                    "</think> <answer> 16 </answer>")
# ... a flag, but the chain goes on from the value the check found wrong (24 - 9, written 16: the
# answer is right only by a second slip) ...
ROUTE_FLAG_IGNORED = (" <think> 7 + 18 = 24 . check 7 + 10 = 17 . 17 + 8 = 25 . wait , that was wrong . 24 - 9 = 16 . "
                      "</think> <answer> 16 </answer>")
# ... and a check that differs without a flag: the chain goes on from it, but nothing was found wrong
# in so many words.
ROUTE_UNNOTED = (" <think> 7 + 18 = 24 . check 7 + 10 = 17 . 17 + 8 = 25 . 25 - 9 = 16 . </think> "
                 "<answer> 16 </answer>")

# Compute 7 + 8 - 9 . = 6, the demo corpus's form: an answer in one's head, checked by working the chain
# step by step, a flag where the two differ, and the worked value kept ...
FIRST_AHA = (" <think> 7 + 8 - 9 is 5 . check 7 + 8 = 15 . 15 - 9 = 6 . wait , not 5 . so the answer is 6 . "
             "</think> <answer> 6 </answer>")
FIRST_AHA_CJK = (" <think> 7 + 8 - 9 is 5 . 检查 7 + 8 = 15 . 15 - 9 = 6 . 等等 , 不是 5 . 所以答案是 6 . </think> "
                 "<answer> 6 </answer>")
# ... the two agree and nothing is flagged ...
FIRST_AGREES = (" <think> 7 + 8 - 9 is 6 . check 7 + 8 = 15 . 15 - 9 = 6 . so the answer is 6 . </think> "
                "<answer> 6 </answer>")
# ... a flag although they agree (a small model writes such things) ...
FIRST_EMPTY_FLAG = (" <think> 7 + 8 - 9 is 6 . check 7 + 8 = 15 . 15 - 9 = 6 . wait , not 6 . so the answer is 6 . "
                    "</think> <answer> 6 </answer>")
# ... they differ but nothing is flagged ...
FIRST_UNNOTED = (" <think> 7 + 8 - 9 is 5 . check 7 + 8 = 15 . 15 - 9 = 6 . so the answer is 6 . </think> "
                 "<answer> 6 </answer>")
# ... a flag, but the first answer kept ...
FIRST_FLAG_IGNORED = (" <think> 7 + 8 - 9 is 5 . check 7 + 8 = 15 . 15 - 9 = 6 . wait , not 5 . so the answer is 5 . "
                      "</think> <answer> 5 </answer>")
# ... and a right first answer flagged because a worked step slipped: ends wrong.
FIRST_FALSE_FLAG = (" <think> 7 + 8 - 9 is 6 . check 7 + 8 = 14 . 14 - 9 = 5 . wait , not 6 . so the answer is 5 . "
                    "</think> <answer> 5 </answer>")

# Find ? : 7 + ? - 9 = 6 (the hidden number is 8), a guess checked by working the chain with it, a flag
# where the chain misses 6, and another guess: the form of search tasks such as Countdown ...
GUESS_AHA = (" <think> ? is 9 . check if 7 + 9 - 9 makes 6 . 7 + 9 = 16 . 16 - 9 = 7 . wait , not 6 . "
             "? is 8 . check if 7 + 8 - 9 makes 6 . 7 + 8 = 15 . 15 - 9 = 6 . so the answer is 8 . </think> "
             "<answer> 8 </answer>")
GUESS_AHA_CJK = (" <think> ? is 9 . 检查 7 + 9 - 9 是否等于 6 . 7 + 9 = 16 . 16 - 9 = 7 . 等等 , 不是 6 . "
                 "? 是 8 . 检查 7 + 8 - 9 是否等于 6 . 7 + 8 = 15 . 15 - 9 = 6 . 所以答案是 8 . </think> "
                 "<answer> 8 </answer>")
# ... found on the third guess ...
GUESS_AHA_THIRD = (" <think> ? is 6 . check if 7 + 6 - 9 makes 6 . 7 + 6 = 13 . 13 - 9 = 4 . wait , not 6 . "
                   "? is 9 . check if 7 + 9 - 9 makes 6 . 7 + 9 = 16 . 16 - 9 = 7 . wait , not 6 . "
                   "? is 8 . check if 7 + 8 - 9 makes 6 . 7 + 8 = 15 . 15 - 9 = 6 . </think> <answer> 8 </answer>")
# ... a right guess whose check agrees ...
GUESS_AGREES = (" <think> ? is 8 . check if 7 + 8 - 9 makes 6 . 7 + 8 = 15 . 15 - 9 = 6 . so the answer is 8 . "
                "</think> <answer> 8 </answer>")
# ... a right guess flagged by a slipped step, guessed again and the same answer given: nothing fixed ...
GUESS_FALSE_FLAG_KEPT = (" <think> ? is 8 . check if 7 + 8 - 9 makes 6 . 7 + 8 = 15 . 15 - 9 = 7 . wait , not 6 . "
                         "? is 8 . check if 7 + 8 - 9 makes 6 . 7 + 8 = 15 . 15 - 9 = 6 . </think> "
                         "<answer> 8 </answer>")
# ... a wrong guess whose check missed the value, answered anyway (ends wrong) ...
GUESS_MISSED = (" <think> ? is 9 . check if 7 + 9 - 9 makes 6 . 7 + 9 = 16 . 16 - 9 = 7 . so the answer is 9 . "
                "</think> <answer> 9 </answer>")
# ... and a right answer after a guess that was never checked.
GUESS_UNCHECKED = " <think> ? is 8 . </think> <answer> 8 </answer>"

# The chain worked, then worked again as a check, each step compared with the first working while both
# start from the same value; a step that differs is flagged and worked a third time.
REDO_AHA = (" <think> 7 + 8 = 15 . 15 - 9 = 7 . 7 + 6 = 13 . check 7 + 8 = 15 . 15 - 9 = 6 . wait , not 7 . "
            "15 - 9 = 6 . 6 + 6 = 12 . so the answer is 12 . </think> <answer> 12 </answer>")
REDO_AHA_CJK = (" <think> 7 + 8 = 15 . 15 - 9 = 7 . 7 + 6 = 13 . 检查 7 + 8 = 15 . 15 - 9 = 6 . 等等 , 不是 7 . "
                "15 - 9 = 6 . 6 + 6 = 12 . 所以答案是 12 . </think> <answer> 12 </answer>")
REDO_AGREES = (" <think> 7 + 8 = 15 . 15 - 9 = 6 . check 7 + 8 = 15 . 15 - 9 = 6 . so the answer is 6 . </think> "
               "<answer> 6 </answer>")
# The check slipped, and its third working sided with the first: nothing was wrong, nothing corrected.
REDO_OWN_SLIP = (" <think> 7 + 8 = 15 . 15 - 9 = 6 . check 7 + 8 = 15 . 15 - 9 = 5 . wait , not 6 . 15 - 9 = 6 . "
                 "so the answer is 6 . </think> <answer> 6 </answer>")
# The same, where the next step happens to start from the check's slipped value (11 - 2 = 11).
REDO_OWN_SLIP_FIXED_POINT = (" <think> 5 + 7 = 12 . 12 - 1 = 11 . 11 - 2 = 9 . check 5 + 7 = 12 . 12 - 1 = 11 . "
                             "11 - 2 = 11 . wait , not 9 . 11 - 2 = 9 . so the answer is 9 . </think> <answer> 9 </answer>")
# The check's slip on a first step, then the first working's value given back.
REDO_OWN_SLIP_FIRST_STEP = (" <think> 2 + 9 = 11 . 11 - 1 = 10 . check 2 + 9 = 21 . wait , not 11 . 2 + 9 = 11 . "
                            "11 - 1 = 10 . so the answer is 10 . </think> <answer> 10 </answer>")
# The first working slipped and the check found it, but its third working gave the slipped value back.
REDO_SIDED_WITH_SLIP = (" <think> 7 + 8 = 15 . 15 - 9 = 7 . check 7 + 8 = 15 . 15 - 9 = 6 . wait , not 7 . "
                        "15 - 9 = 7 . so the answer is 7 . </think> <answer> 7 </answer>")

# The chain worked and its value stated, then worked again as a check; where the two differ, a third time.
STATED_AHA = (" <think> 7 + 8 = 15 . 15 - 9 = 7 . 7 + 6 = 13 . so 7 + 8 - 9 + 6 is 13 . check 7 + 8 = 15 . 15 - 9 = 6 . "
              "6 + 6 = 12 . wait , not 13 . check 7 + 8 = 15 . 15 - 9 = 6 . 6 + 6 = 12 . so the answer is 12 . </think> "
              "<answer> 12 </answer>")
STATED_AHA_CJK = (" <think> 7 + 8 = 15 . 15 - 9 = 7 . 7 + 6 = 13 . 所以 7 + 8 - 9 + 6 是 13 . 检查 7 + 8 = 15 . "
                  "15 - 9 = 6 . 6 + 6 = 12 . 等等 , 不是 13 . 检查 7 + 8 = 15 . 15 - 9 = 6 . 6 + 6 = 12 . 所以答案是 12 . "
                  "</think> <answer> 12 </answer>")
STATED_AGREES = (" <think> 7 + 8 = 15 . 15 - 9 = 6 . so 7 + 8 - 9 is 6 . check 7 + 8 = 15 . 15 - 9 = 6 . so the answer "
                 "is 6 . </think> <answer> 6 </answer>")
# The check slipped; the third working gave back the stated result.
STATED_OWN_SLIP = (" <think> 7 + 8 = 15 . 15 - 9 = 6 . 6 + 6 = 12 . so 7 + 8 - 9 + 6 is 12 . check 7 + 8 = 15 . "
                   "15 - 9 = 5 . 5 + 6 = 11 . wait , not 12 . check 7 + 8 = 15 . 15 - 9 = 6 . 6 + 6 = 12 . so the answer "
                   "is 12 . </think> <answer> 12 </answer>")
# The stated result was wrong and the check differed, but it went unflagged.
STATED_UNNOTED = (" <think> 7 + 8 = 15 . 15 - 9 = 7 . 7 + 6 = 13 . so 7 + 8 - 9 + 6 is 13 . check 7 + 8 = 15 . "
                  "15 - 9 = 6 . 6 + 6 = 12 . so the answer is 12 . </think> <answer> 12 </answer>")

# Compute 47 + 8 - 9 . = 46: a check of the whole chain at the end, and prose.
PLAIN = " <think> 47 + 8 = 55 . 55 - 9 = 46 . </think> <answer> 46 </answer>"
DIRECT = " <think> the answer is 46 . </think> <answer> 46 </answer>"
CHECK_OK = (" <think> 47 + 8 = 55 . 55 - 9 = 46 . wait , let me check . 46 + 9 = 55 . 55 - 8 = 47 . "
            "it checks out . </think> <answer> 46 </answer>")
# The first step slipped (a dropped carry: 45); the check finds it and the redo ends right.
AHA = (" <think> 47 + 8 = 45 . 45 - 9 = 36 . wait , let me check . 36 + 9 = 45 . 45 - 8 = 37 , not 47 . so "
       "47 + 8 = 55 . 55 - 9 = 46 . </think> <answer> 46 </answer>")
# The same in the corpus's second script.
AHA_CJK = (" <think> 47 + 8 = 45 . 45 - 9 = 36 . 等等 , 让我检查 . 36 + 9 = 45 . 45 - 8 = 37 , 不是 47 . 所以 "
           "47 + 8 = 55 . 55 - 9 = 46 . </think> <answer> 46 </answer>")
# Prose, the way a larger model writes it.
AHA_PROSE = (" <think> 12 times 3 is 38. Wait, let me verify: 38 / 3 is not whole, that is wrong. 12 times 3 "
             "is 36. </think> <answer> 36 </answer>")
# A check that flags a step that was right (the inverse slipped) and redoes it to the same value:
# the check changed nothing.
FALSE_FLAG = (" <think> 47 + 8 = 55 . 55 - 9 = 46 . wait , let me check . 46 + 9 = 55 . 55 - 8 = 46 , not 47 . so "
              "47 + 8 = 55 . 55 - 9 = 46 . </think> <answer> 46 </answer>")
# A check that catches the slip but the redo slips again: ends wrong.
CAUGHT_BUT_WRONG = (" <think> 47 + 8 = 45 . 45 - 9 = 36 . wait , let me check . 36 + 9 = 45 . 45 - 8 = 37 , not 47 . "
                    "so 47 + 8 = 56 . 56 - 9 = 47 . </think> <answer> 47 </answer>")
# A check that misses the slip: "checks out" (没错 in the second script) and ends wrong.
MISSED = (" <think> 47 + 8 = 45 . 45 - 9 = 36 . 等等 , 让我检查 . 36 + 9 = 45 . 45 - 8 = 47 . 没错 . </think> "
          "<answer> 36 </answer>")
# Words about checking in the answer only, not in the reasoning.
CHECK_IN_ANSWER = " <think> 47 + 8 = 55 . 55 - 9 = 46 . </think> <answer> 46 wait </answer>"

# A search (the signs task, "Make 12 : 7 ? 8 ? 3 ."): a guess worked out, its value and the target side by
# side with a verdict, another guess on "not" ...
SEARCH_AHA = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 12 not . 7 + 8 - 3 . 7 + 8 = 15 . "
              "15 - 3 = 12 . check 12 12 so . </think> <answer> 7 + 8 - 3 </answer>")
SEARCH_AHA_CJK = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . 检查 18 12 不是 . 7 + 8 - 3 . 7 + 8 = 15 . "
                  "15 - 3 = 12 . 检查 12 12 是 . </think> <answer> 7 + 8 - 3 </answer>")
# ... found on the third guess, the second guess's check also right to say "not" ...
SEARCH_AHA_THIRD = (" <think> 20 - 4 - 2 . 20 - 4 = 16 . 16 - 2 = 14 . check 14 18 not . 20 - 4 + 2 . 20 - 4 = 16 . "
                    "16 + 2 = 18 . check 18 22 not . 20 + 4 - 2 . 20 + 4 = 24 . 24 - 2 = 22 . check 22 22 so . "
                    "</think> <answer> 20 + 4 - 2 </answer>")
# ... right at the first guess: nothing to correct ...
SEARCH_FIRST_RIGHT = (" <think> 7 + 8 - 3 . 7 + 8 = 15 . 15 - 3 = 12 . check 12 12 so . </think> "
                      "<answer> 7 + 8 - 3 </answer>")
# ... a right guess whose working slipped (7 + 8 = 16), flagged, then another guess that also makes the
# target (7 ? 1 ? 1 makes 7 two ways): the check found no real mistake ...
SEARCH_FALSE_FLAG = (" <think> 7 + 1 - 1 . 7 + 1 = 9 . 9 - 1 = 8 . check 8 7 not . 7 - 1 + 1 . 7 - 1 = 6 . "
                     "6 + 1 = 7 . check 7 7 so . </think> <answer> 7 - 1 + 1 </answer>")
# ... the target miscopied into the check (13 for 12): the answer is right, but not by the check ...
SEARCH_MISCOPIED = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 13 not . 7 + 8 - 3 . 7 + 8 = 15 . "
                    "15 - 3 = 12 . check 12 13 not . </think> <answer> 7 + 8 - 3 </answer>")
# ... and a guess flagged, then given as the answer anyway.
SEARCH_KEPT = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 12 not . </think> "
               "<answer> 7 + 8 + 3 </answer>")
# A guess flagged, then a right answer the search never worked out: right by luck, not by a check ...
SEARCH_UNWORKED = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 12 not . </think> "
                   "<answer> 7 + 8 - 3 </answer>")
# ... worked out, but its own check said "not" (the working slipped) and it was answered anyway ...
SEARCH_UNCONFIRMED = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 12 not . 7 + 8 - 3 . 7 + 8 = 15 . "
                      "15 - 3 = 13 . check 13 12 not . </think> <answer> 7 + 8 - 3 </answer>")
# ... a check that says "so" to a value that is not the target ...
SEARCH_FALSE_YES = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 12 not . 7 + 8 - 3 . 7 + 8 = 15 . "
                    "15 - 3 = 13 . check 13 12 so . </think> <answer> 7 + 8 - 3 </answer>")
# ... and a confirmed guess that is not what was answered (the guess written 7 - 8 + 3, worked as 7 + 8 - 3).
SEARCH_ANSWER_NOT_CHECKED = (" <think> 7 + 8 + 3 . 7 + 8 = 15 . 15 + 3 = 18 . check 18 12 not . 7 - 8 + 3 . "
                             "7 + 8 = 15 . 15 - 3 = 12 . check 12 12 so . </think> <answer> 7 + 8 - 3 </answer>")


@pytest.mark.parametrize("text", [SEARCH_AHA, SEARCH_AHA_CJK, SEARCH_AHA_THIRD, SEARCH_FIRST_RIGHT, SEARCH_FALSE_FLAG,
                                  SEARCH_MISCOPIED, SEARCH_KEPT, SEARCH_UNWORKED, SEARCH_UNCONFIRMED, SEARCH_FALSE_YES,
                                  SEARCH_ANSWER_NOT_CHECKED])
def test_search_checks_are_found(text):
    assert has_check(text)


@pytest.mark.parametrize("text", [SEARCH_AHA, SEARCH_AHA_CJK, SEARCH_AHA_THIRD])
def test_search_aha_positives(text):
    assert is_aha(text, correct=True)


@pytest.mark.parametrize("text,correct", [
    (SEARCH_AHA, False),  # the verifier's verdict rules
    (SEARCH_FIRST_RIGHT, True), (SEARCH_FALSE_FLAG, True), (SEARCH_MISCOPIED, True),
    # Judged as if right, so that the detector's rule rejects it, not the verdict.
    (SEARCH_KEPT, True), (SEARCH_UNWORKED, True), (SEARCH_UNCONFIRMED, True), (SEARCH_FALSE_YES, True),
    (SEARCH_ANSWER_NOT_CHECKED, True),
    # A bare sum that is not checked against a target, and an answer that is not a sum.
    (" <think> 7 + 8 + 3 . 7 + 8 - 3 . </think> <answer> 7 + 8 - 3 </answer>", True),
    (SEARCH_AHA.replace("<answer> 7 + 8 - 3", "<answer> 12"), True),
])
def test_search_aha_negatives(text, correct):
    assert not is_aha(text, correct)


@pytest.mark.parametrize("text", [CHECK_OK, AHA, AHA_CJK, AHA_PROSE, FALSE_FLAG, CAUGHT_BUT_WRONG, MISSED,
                                  STEP_CHECKS, STEP_AHA, STEP_AHA_CJK, STEP_AHA_INVERSE, STEP_FALSE_FLAG,
                                  STEP_UNNOTED, STEP_MISSED, STEP_EMPTY_NOTE, ROUTE_AHA, ROUTE_AHA_CJK, ROUTE_AHA_LAST,
                                  ROUTE_AGREES, ROUTE_EMPTY_FLAG, ROUTE_FLAG_IGNORED, ROUTE_UNNOTED, FIRST_AHA,
                                  FIRST_AHA_CJK, FIRST_AGREES, FIRST_EMPTY_FLAG, FIRST_UNNOTED, FIRST_FLAG_IGNORED,
                                  FIRST_FALSE_FLAG, GUESS_AHA, GUESS_AHA_CJK, GUESS_AHA_THIRD, GUESS_AGREES,
                                  GUESS_FALSE_FLAG_KEPT, GUESS_MISSED, REDO_AHA, REDO_AHA_CJK, REDO_AGREES,
                                  REDO_OWN_SLIP, REDO_OWN_SLIP_FIXED_POINT, REDO_OWN_SLIP_FIRST_STEP,
                                  REDO_SIDED_WITH_SLIP, STATED_AHA, STATED_AHA_CJK, STATED_AGREES, STATED_OWN_SLIP,
                                  STATED_UNNOTED])
def test_checks_are_found(text):
    assert has_check(text)


@pytest.mark.parametrize("text", [PLAIN, DIRECT, CHECK_IN_ANSWER, GUESS_UNCHECKED, "",
                                  " <think> </think> <answer> 1 </answer>"])
def test_no_check_where_there_is_none(text):
    assert not has_check(text)


@pytest.mark.parametrize("text", [AHA, AHA_CJK, AHA_PROSE, STEP_AHA, STEP_AHA_CJK, STEP_AHA_INVERSE, ROUTE_AHA,
                                  ROUTE_AHA_CJK, ROUTE_AHA_LAST, FIRST_AHA, FIRST_AHA_CJK, GUESS_AHA, GUESS_AHA_CJK,
                                  GUESS_AHA_THIRD, REDO_AHA, REDO_AHA_CJK, STATED_AHA, STATED_AHA_CJK])
def test_aha_positives(text):
    assert is_aha(text, correct=True)


@pytest.mark.parametrize("text,correct", [
    (AHA, False),  # the verifier's verdict rules: a wrong answer is never an aha
    (PLAIN, True), (DIRECT, True), (CHECK_OK, True),  # no check, or a check that found nothing
    (FALSE_FLAG, True),  # flagged, but the result was already right and did not change
    (STEP_FALSE_FLAG, True), (STEP_CHECKS, True), (STEP_MISSED, False), (STEP_AHA, False),
    (STEP_UNNOTED, True), (STEP_EMPTY_NOTE, True),
    (CAUGHT_BUT_WRONG, False), (MISSED, False),
    (ROUTE_AHA, False), (ROUTE_AGREES, True), (ROUTE_EMPTY_FLAG, True), (ROUTE_FLAG_IGNORED, True),
    (ROUTE_UNNOTED, True),
    (FIRST_AHA, False), (FIRST_AGREES, True), (FIRST_EMPTY_FLAG, True), (FIRST_UNNOTED, True),
    # The first answer kept after its flag; judged as if right, so that the detector's own rule rejects
    # it, not the verdict.
    (FIRST_FLAG_IGNORED, True), (FIRST_FALSE_FLAG, False),
    (GUESS_AHA, False), (GUESS_AGREES, True), (GUESS_FALSE_FLAG_KEPT, True), (GUESS_MISSED, False),
    (GUESS_UNCHECKED, True),
    (REDO_AHA, False), (REDO_AGREES, True), (REDO_OWN_SLIP, True), (REDO_OWN_SLIP_FIXED_POINT, True),
    (REDO_OWN_SLIP_FIRST_STEP, True),
    # Judged as if right, so that the detector's rule rejects it, not the verdict.
    (REDO_SIDED_WITH_SLIP, True),
    (STATED_AHA, False), (STATED_AGREES, True), (STATED_OWN_SLIP, True), (STATED_UNNOTED, True),
    # The last step's check found its value wrong, but the answer is the value it found wrong.
    (ROUTE_AHA_LAST.replace("<answer> 25", "<answer> 24"), True),
    # A check that flags something, but nothing was reached before it to correct.
    (" <think> wait , let me check . not 5 . </think> <answer> 46 </answer>", True),
    # A different final answer after a check that found nothing wrong is not an aha either.
    (" <think> 47 + 8 = 54 . wait , let me check . 54 - 8 = 46 . so 55 . </think> <answer> 55 </answer>", True),
])
def test_aha_negatives(text, correct):
    assert not is_aha(text, correct)


def test_emergence_stats_by_hand():
    samples = [(PLAIN, True), (DIRECT, False), (CHECK_OK, True), (AHA, True), (CAUGHT_BUT_WRONG, False)]
    stats = emergence_stats(samples, lengths=[10, 5, 30, 40, 42])
    assert stats["n"] == 5
    assert stats["check_rate"] == pytest.approx(3 / 5)
    assert stats["aha_rate"] == pytest.approx(1 / 5) and stats["aha_count"] == 1
    assert stats["accuracy_with_check"] == pytest.approx(2 / 3)
    assert stats["accuracy_without_check"] == pytest.approx(1 / 2)
    # sorted lengths 5 10 30 40 42: mean 25.4; p10 index 0, p90 index 4 (q * n // 100)
    assert stats["response_length_mean"] == pytest.approx(25.4)
    assert (stats["response_length_p10"], stats["response_length_p90"]) == (5, 42)
    assert stats["reflection_words_per_1k"] == reflection_words_per_1k([t for t, _ in samples])


def test_emergence_stats_edges():
    assert emergence_stats([]) == {"n": 0, "reflection_words_per_1k": 0.0, "check_rate": 0.0, "aha_rate": 0.0,
                                   "aha_count": 0}
    only_plain = emergence_stats([(PLAIN, True)])
    assert "accuracy_with_check" not in only_plain and only_plain["accuracy_without_check"] == 1.0
    with pytest.raises(ValueError, match="lengths"):
        emergence_stats([(PLAIN, True)], lengths=[1, 2])


def test_reflection_words_by_hand():
    # CHECK_OK's reasoning words: wait, let, me, check, it, checks, out; reflection words: wait and
    # check ("checks" is not one) -> 2 of 7.
    assert reflection_words_per_1k([CHECK_OK]) == pytest.approx(1000 * 2 / 7)
    # STEP_AHA: check, wait, not, check -> 3 of 4.
    assert reflection_words_per_1k([STEP_AHA]) == pytest.approx(1000 * 3 / 4)
    assert reflection_words_per_1k([PLAIN]) == 0.0


def test_held_out_signals_pool_every_sample():
    from r1lab.evaluation.runner import ProblemResult
    from r1lab.grpo.metrics import held_out_signals
    from r1lab.types import Problem, Verdict

    right, wrong = Verdict("correct", 1.0, "46"), Verdict("incorrect", 0.0, "36")
    results = [ProblemResult(Problem("a", "Compute 47 + 8 - 9 .", 46), [AHA, PLAIN], [right, right], [30, 10]),
               ProblemResult(Problem("b", "Compute 47 + 8 - 9 .", 46), [MISSED, DIRECT, CHECK_OK], [wrong, right, right],
                             [20, 5, 40])]
    signals = held_out_signals(results)
    assert signals["check_rate"] == pytest.approx(3 / 5) and signals["aha_rate"] == pytest.approx(1 / 5)
    # Lengths 5, 10, 20, 30, 40: p10 is index 0, p90 index 4 (q * n // 100).
    assert signals["response_length_p10"] == 5 and signals["response_length_p90"] == 40
    assert signals["reflection_words_per_1k"] > 0


def test_sample_rows_carry_the_aha_mark():
    from r1lab.types import Problem, Verdict, sample_record

    row = sample_record(Problem("a", "Compute 47 + 8 - 9 .", 46), AHA, 30, "stop", Verdict("correct", 1.0, "46"),
                        step=3, aha=is_aha(AHA, True))
    assert row["aha"] is True and row["step"] == 3
    assert "aha" not in sample_record(Problem("a", "q", 1), PLAIN, 10, "stop", Verdict("correct", 1.0, "1"))


def test_first_and_last_tenth_by_hand():
    from r1lab.grpo.metrics import first_and_last_tenth

    # 20 training steps: a tenth is 2 steps. Eval-only rows (no reward_mean) are not training steps.
    rows = [{"step": i, "reward_mean": 0.0, "check_rate": i / 100} for i in range(1, 21)]
    rows.insert(5, {"step": 5, "check_rate": 1.0})
    assert first_and_last_tenth(rows, "check_rate") == pytest.approx({"first_tenth_mean": 0.015,
                                                                      "last_tenth_mean": 0.195})
    # Fewer than 10 steps: a "tenth" is one step.
    assert first_and_last_tenth(rows[:3], "check_rate") == pytest.approx({"first_tenth_mean": 0.01,
                                                                          "last_tenth_mean": 0.03})
    assert first_and_last_tenth(rows, "aha_rate") == {}
