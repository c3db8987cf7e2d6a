"""Write samples.jsonl, the labelled redaction sample, from the items below.

Run ``python resources/bench/redaction/build.py`` after adding items. Each item is a text and what
in it is personal data, as (kind, exact text); every occurrence of that text in the item is
labelled. Names are labelled without their title ("Mrs [Maria Gonzales]"). Items with no labels are
hard negatives: text a redactor must keep.

The split is fixed here, not at run time: within each section the items are shuffled with a fixed
seed and dealt alternately to "dev" (tuning allowed) and "held-out" (never looked at while tuning).
Appending items to a section re-deals only that section; the written file is what counts.

All numbers are made up: IBANs, card, NHS and social security numbers were generated to pass their
checksums (mod-97, Luhn, mod-11, the SSA's rules); phone numbers are from the ranges Ofcom and the
NANP keep for drama (07700 900…, 020 7946 0…, 555-01…) where possible. Names are invented.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
Item = tuple[str, list[tuple[str, str]]]

CLINICAL: list[Item] = [
    ("Discharge summary for Mrs Maria Gonzales (DOB 02/11/1958), seen by Dr Sarah Patel on Nightingale Ward.",
     [("name", "Maria Gonzales"), ("dob", "02/11/1958"), ("name", "Sarah Patel")]),
    ("Patient: GONZALES, Maria\nNHS No: 223 237 9175\nWard: Keats Ward",
     [("name", "GONZALES, Maria"), ("nhs", "223 237 9175")]),
    ("Dear Dr Okafor,\nThank you for referring Mr Kwame Asante, a 67-year-old man with Parkinson's disease.",
     [("name", "Okafor"), ("name", "Kwame Asante")]),
    ("Mr Asante was started on co-careldopa and reviewed by Prof. Whitfield in the movement disorders clinic.",
     [("name", "Asante"), ("name", "Whitfield")]),
    ("Yours sincerely,\n\nDr Chinedu Okafor\nConsultant Neurologist, St Thomas' Hospital",
     [("name", "Chinedu Okafor")]),
    ("Next of kin: Aisling O'Connor (daughter), mobile 07700 900461.",
     [("name", "Aisling O'Connor"), ("phone", "07700 900461")]),
    ("Seen today with her husband, John Whitaker, who reports she has been more confused since Tuesday.",
     [("name", "John Whitaker")]),
    ("Referral: Priya Raman, 34, G2P1, booked at 12 weeks; DOB 14/07/1990; GP Dr. Hamish McDonald.",
     [("name", "Priya Raman"), ("dob", "14/07/1990"), ("name", "Hamish McDonald")]),
    ("Handover: bed 12, Mr Li Wei, post-op day 2 after laparoscopic cholecystectomy, pain controlled with Oramorph.",
     [("name", "Li Wei")]),
    ("Bed 4: Mrs Fatima Zahra Begum, 81, on Apixaban for AF, fall at home, CT head clear.",
     [("name", "Fatima Zahra Begum")]),
    ("Signed: A. Nowak, Staff Nurse, Cavell Ward, 14/02/2025 21:40",
     [("name", "A. Nowak")]),
    ("Patient name: José García López    Hospital no: RF4471203    DOB: 1949-03-27",
     [("name", "José García López"), ("dob", "1949-03-27")]),
    ("Ms Eilidh MacLeod attended the respiratory clinic; spirometry was consistent with COPD.",
     [("name", "Eilidh MacLeod")]),
    ("Spoke with the patient's son, Dmitri Volkov, on 020 7946 0321 and explained the plan.",
     [("name", "Dmitri Volkov"), ("phone", "020 7946 0321")]),
    ("Reviewed by Dr. Y. Tanaka (ST4 Cardiology). Troponin 14 ng/L, ECG sinus rhythm.",
     [("name", "Y. Tanaka")]),
    ("Pieter de Vries, born 3 May 1944, was transferred from the Royal Free Hospital for TAVI.",
     [("name", "Pieter de Vries"), ("dob", "3 May 1944")]),
    ("Ayesha Siddiqui (NHS 914 192 0104) failed to attend her colposcopy appointment on 12 March 2025.",
     [("name", "Ayesha Siddiqui"), ("nhs", "914 192 0104")]),
    ("Dictated by Mr R. Patel, Consultant Urologist; typed by K. Brennan.",
     [("name", "R. Patel"), ("name", "K. Brennan")]),
    ("cc: Dr Anna Kowalska, Ashfield Surgery, anna.kowalska@nhs.net",
     [("name", "Anna Kowalska"), ("email", "anna.kowalska@nhs.net")]),
    ("Oluwaseun Adeyemi is a 29-year-old woman with Crohn's disease on Humira, referred for a flare.",
     [("name", "Oluwaseun Adeyemi")]),
    ("The patient, Thomas Hartley, declined the flu vaccine; his wife Margaret was present.",
     [("name", "Thomas Hartley"), ("name", "Margaret")]),
    ("Mother: Chloe Bennett, tel 07700 900218. Baby boy Bennett born 04:12, Apgar 9 and 10.",
     [("name", "Chloe Bennett"), ("phone", "07700 900218"), ("name", "Bennett")]),
    ("Safeguarding concern raised by Sister Nkechi Eze about Jayden Miller (DOB 2017-09-30).",
     [("name", "Nkechi Eze"), ("name", "Jayden Miller"), ("dob", "2017-09-30")]),
    ("MDT outcome for Mr Hamid Rahimi: Gleason 4+3 prostate cancer, for radical radiotherapy.",
     [("name", "Hamid Rahimi")]),
    ("Mrs Rahimi asked that results be sent to hamid.rahimi1952@gmail.com rather than by post.",
     [("name", "Rahimi"), ("email", "hamid.rahimi1952@gmail.com")]),
    ("Phone consultation with Grace Thompson: cough for three weeks, no weight loss, chest X-ray requested.",
     [("name", "Grace Thompson")]),
    ("Consultant: Dr Rebecca Lloyd-Jones    Registrar: Dr Tom Brady    Ward: Florence Ward",
     [("name", "Rebecca Lloyd-Jones"), ("name", "Tom Brady")]),
    ("Admitted via ED; brought in by ambulance after a fall. Patient Siobhan Murphy, 88, lives alone.",
     [("name", "Siobhan Murphy")]),
    ("Mr Nguyen Van Minh needs an interpreter (Vietnamese); contact his niece Lan on 0113 496 0872.",
     [("name", "Nguyen Van Minh"), ("name", "Lan"), ("phone", "0113 496 0872")]),
    ("Prescribed by Dr. Ahmed Al-Rashid: Amoxicillin 500 mg TDS for 5 days.",
     [("name", "Ahmed Al-Rashid")]),
    ("Letter to Mrs Doreen Fletcher, 14 Wellington Road, Leeds: your appointment is on 3 June 2025.",
     [("name", "Doreen Fletcher")]),
    ("Physio note (Liam Walsh, band 6): mobilised with a frame, stairs assessment tomorrow.",
     [("name", "Liam Walsh")]),
    ("Patient: Benjamin Carter\nDOB:\n21/12/1963\nAllergies: penicillin (rash)",
     [("name", "Benjamin Carter"), ("dob", "21/12/1963")]),
    ("Occupational therapy: Mrs Edith Clarke would benefit from a perching stool and rails.",
     [("name", "Edith Clarke")]),
    ("Ward round: Dr Jonas Becker reviewed Mr Alan Pearce; plan to restart warfarin tonight.",
     [("name", "Jonas Becker"), ("name", "Alan Pearce")]),
    ("Discussed with Dr Ruth Abernathy (microbiology): switch Tazocin to oral co-amoxiclav.",
     [("name", "Ruth Abernathy")]),
    ("Miss Harriet Cole, 19, presented with right iliac fossa pain; Alvarado score 7.",
     [("name", "Harriet Cole")]),
    ("The ambulance crew (paramedic Dean Foster) found Mr Victor Ionescu on the kitchen floor.",
     [("name", "Dean Foster"), ("name", "Victor Ionescu")]),
    ("Referred by: Dr K. Mensah, Parkside Medical Centre, tel 0161 496 0555",
     [("name", "K. Mensah"), ("phone", "0161 496 0555")]),
    ("I reviewed Samuel Osei in clinic today with his mother. DOB: 08-Aug-2012. Asthma well controlled.",
     [("name", "Samuel Osei"), ("dob", "08-Aug-2012")]),
    ("Complaint from Mr Gareth Hughes regarding the waiting time in the Emergency Department.",
     [("name", "Gareth Hughes")]),
    ("Sent to pharmacy: TTO for Margaret Ellis, Ramipril 5 mg OD, Bisoprolol 2.5 mg OD.",
     [("name", "Margaret Ellis")]),
    ("Dear Ms Kaur, your blood test results are normal and no further action is needed.",
     [("name", "Kaur")]),
    ("Theatre list: 1) Mr Faisal Qureshi — hernia repair; 2) Mrs Joan Pike — cataract, left eye.",
     [("name", "Faisal Qureshi"), ("name", "Joan Pike")]),
    ("Patient states her name is Anneliese Vogel and her GP is Dr. Martin Shaw in Reading.",
     [("name", "Anneliese Vogel"), ("name", "Martin Shaw")]),
    ("Midwife Lucy Fairbanks documented reduced fetal movements at 34+2 weeks.",
     [("name", "Lucy Fairbanks")]),
    ("Reviewed by Professor Imran Haq, hepatology; ascitic tap planned on Lister Ward.",
     [("name", "Imran Haq")]),
    ("Dementia screen for Mr Frank Dobson: MoCA 18/30. Daughter Karen Dobson has lasting power of attorney.",
     [("name", "Frank Dobson"), ("name", "Karen Dobson")]),
    ("Telephone: 0117 496 0932 (home), 07700 900776 (mobile) — Mrs Irene Walsh.",
     [("phone", "0117 496 0932"), ("phone", "07700 900776"), ("name", "Irene Walsh")]),
    ("Name: Rosa Delgado\nMRN: 00482213\nConsultant: Dr A. Richter",
     [("name", "Rosa Delgado"), ("name", "A. Richter")]),
]

BANK: list[Item] = [
    ("Dear Mr Whitmore, we have received your request to close account 41236578.",
     [("name", "Whitmore")]),
    ("Account holder: Helen Marsh\nIBAN: GB87 PIVQ 5260 5747 9380 92\nBranch: Leeds Briggate",
     [("name", "Helen Marsh"), ("iban", "GB87 PIVQ 5260 5747 9380 92")]),
    ("Customer Daniel Brookes called from 07700 900144 to dispute a payment of £249.99 to Ryanair.",
     [("name", "Daniel Brookes"), ("phone", "07700 900144")]),
    ("Payee: Sophie Laurent, IBAN FR25 7698 3770 3686 8701 8945 057, reference LOYER MARS.",
     [("name", "Sophie Laurent"), ("iban", "FR25 7698 3770 3686 8701 8945 057")]),
    ("Suspicious activity report: Mr Viktor Petrov deposited EUR 9,900 in cash on three consecutive days.",
     [("name", "Viktor Petrov")]),
    ("Beneficiary name: Jan van der Berg\nBeneficiary IBAN: NL89 QPPU 5472 7490 45",
     [("name", "Jan van der Berg"), ("iban", "NL89 QPPU 5472 7490 45")]),
    ("Card 4049 4960 3074 1651 belonging to Ms Olivia Grant was reported stolen on 2 April 2025.",
     [("card", "4049 4960 3074 1651"), ("name", "Olivia Grant")]),
    ("Kind regards,\nMark Ellison\nRelationship Manager, Private Banking\nmark.ellison@coutts-example.co.uk",
     [("name", "Mark Ellison"), ("email", "mark.ellison@coutts-example.co.uk")]),
    ("KYC review: applicant Rahul Mehta, DOB 1985/06/19, SSN 328-89-7229, employer Accenture.",
     [("name", "Rahul Mehta"), ("dob", "1985/06/19"), ("ssn", "328-89-7229")]),
    ("Joint account for Peter and Linda Hollis; statements to linda.hollis@btinternet.com.",
     [("name", "Peter"), ("name", "Linda Hollis"), ("email", "linda.hollis@btinternet.com")]),
    ("Mrs Hollis confirmed the standing order to DE52 3555 8982 0660 8036 06 should stop.",
     [("name", "Hollis"), ("iban", "DE52 3555 8982 0660 8036 06")]),
    ("Chargeback raised for Mr Connor Reid: Mastercard 5263-3960-0387-7555, merchant Amazon EU.",
     [("name", "Connor Reid"), ("card", "5263-3960-0387-7555")]),
    ("Fraud team note (analyst: Bethany Cross): the caller could not confirm the date of birth on file.",
     [("name", "Bethany Cross")]),
    ("Loan application — Name: Marek Dąbrowski; Date of birth: 11 Nov 1979; Mob: 07700900392",
     [("name", "Marek Dąbrowski"), ("dob", "11 Nov 1979"), ("phone", "07700900392")]),
    ("Power of attorney registered for Mrs Agnes Whitfield; attorney Neil Whitfield (son).",
     [("name", "Agnes Whitfield"), ("name", "Neil Whitfield")]),
    ("Dear Ms Achterberg, your mortgage offer of EUR 310,000 is valid until 30/09/2025.",
     [("name", "Achterberg")]),
    ("Complaint reference C-20931: Mr Tobias Lindqvist says his card 4043.7019.3750.7048 was charged twice.",
     [("name", "Tobias Lindqvist"), ("card", "4043.7019.3750.7048")]),
    ("Probate: the estate of the late Arthur Pembroke; executor Clare Pembroke, tel +44 20 7946 0788.",
     [("name", "Arthur Pembroke"), ("name", "Clare Pembroke"), ("phone", "+44 20 7946 0788")]),
    ("Wire instruction signed by Hannah Schultz to IE11 AZBC 6836 1534 4879 91.",
     [("name", "Hannah Schultz"), ("iban", "IE11 AZBC 6836 1534 4879 91")]),
    ("Call notes: spoke to Mr Osagie Eweka re overdraft; he will call back on Ph: 0113 496 0177.",
     [("name", "Osagie Eweka"), ("phone", "0113 496 0177")]),
    ("Vulnerable customer flag added for Dorothy Simmons at the request of her carer, Paul Greene.",
     [("name", "Dorothy Simmons"), ("name", "Paul Greene")]),
    ("Sanctions screening: no match for Ahmed Yusuf (born 07.03.1981); case closed by Laura Pinto.",
     [("name", "Ahmed Yusuf"), ("dob", "07.03.1981"), ("name", "Laura Pinto")]),
    ("Amex 3710 874845 99509 on file for Dr. Elena Rossi, billing address in Milan.",
     [("card", "3710 874845 99509"), ("name", "Elena Rossi")]),
    ("Mortgage arrears: Mr and Mrs Kowalczyk have missed two payments; contact kowalczyk.home@outlook.com.",
     [("name", "Kowalczyk"), ("email", "kowalczyk.home@outlook.com")]),
    ("From: Gemma Price <gemma.price@lloydsbank-example.co.uk>\nTo: Complaints\nSubject: Ms Ruth Adler",
     [("name", "Gemma Price"), ("email", "gemma.price@lloydsbank-example.co.uk"), ("name", "Ruth Adler")]),
    ("Refund to IBAN ES98-6848-5323-8134-0887-1798 for customer Javier Morales.",
     [("iban", "ES98-6848-5323-8134-0887-1798"), ("name", "Javier Morales")]),
    ("Authorised signatory: Stefan Richter. Company: Richter Logistik GmbH.",
     [("name", "Stefan Richter")]),
    ("Customer Naomi Feld asked why her Visa 4976 8010 0115 8065 was declined in Lisbon.",
     [("name", "Naomi Feld"), ("card", "4976 8010 0115 8065")]),
    ("Account name: MR D J OKONJO\nSort code: 20-45-77\nAccount number: 55779911",
     [("name", "D J OKONJO")]),
    ("Please update the home number for Mrs Beryl Tanner to 0161 496 0919.",
     [("name", "Beryl Tanner"), ("phone", "0161 496 0919")]),
]

RULES: list[Item] = [
    ("IBAN GB32\u00a0OLFK\u00a03093\u00a01856\u00a01008\u00a031 (copied from the online banking page)",
     [("iban", "GB32\u00a0OLFK\u00a03093\u00a01856\u00a01008\u00a031")]),
    ("Pay into GB 25 NODV 6285 9820 8281 69 by the 1st.", [("iban", "GB 25 NODV 6285 9820 8281 69")]),
    ("Bank details: DE58 3918 3214\n0647 5908 75\nBIC: COBADEFFXXX", [("iban", "DE58 3918 3214\n0647 5908 75")]),
    ("Rekening NL31QUWO3484000284 op naam van de stichting.", [("iban", "NL31QUWO3484000284")]),
    ("IBAN: IE76-GRTW-6931-6551-5214-42", [("iban", "IE76-GRTW-6931-6551-5214-42")]),
    ("Credit FR50 5422 7382 4706 5469 4695 224 with the deposit.", [("iban", "FR50 5422 7382 4706 5469 4695 224")]),
    ("es22 3531 2379 7321 8019 2665 (typed in lower case)", [("iban", "es22 3531 2379 7321 8019 2665")]),
    ("Old account DE10 3547 7732 7852 3390 45 is now closed.", [("iban", "DE10 3547 7732 7852 3390 45")]),
    ("Card no. 5107 1808 0366 6669, expiry 11/27, CVV not stored.", [("card", "5107 1808 0366 6669")]),
    ("Visa 4649-1814-8924-2344 flagged by the fraud engine.", [("card", "4649-1814-8924-2344")]),
    ("PAN 5333988001319832 appeared in the free-text field.", [("card", "5333988001319832")]),
    ("Card 6011.6600.7990.3188 used online.", [("card", "6011.6600.7990.3188")]),
    ("JCB 3530 1339 4471 4114, customer in Osaka.", [("card", "3530 1339 4471 4114")]),
    ("Amex 3449 804739 58385 was added to the wallet.", [("card", "3449 804739 58385")]),
    ("Mastercard 2223\u00a00980\u00a00434\u00a01153 (pasted from a PDF)", [("card", "2223\u00a00980\u00a00434\u00a01153")]),
    ("Mob: 07700 900 812", [("phone", "07700 900 812")]),
    ("Ph: 0117 496 0400 (ward clerk)", [("phone", "0117 496 0400")]),
    ("Home number: 020 7946 0112; work: 020 7946 0999", [("phone", "020 7946 0112"), ("phone", "020 7946 0999")]),
    ("Tel +353 1 555 0199 (Dublin office)", [("phone", "+353 1 555 0199")]),
    ("Contact number 07700900555", [("phone", "07700900555")]),
    ("Call +1 (202) 555-0143 for the US desk.", [("phone", "+1 (202) 555-0143")]),
    ("Mobile +49 151 23456789 (Germany)", [("phone", "+49 151 23456789")]),
    ("Fax: 0161 496 0800", [("phone", "0161 496 0800")]),
    ("E-mail: ward7b.sister@mft.nhs.uk", [("email", "ward7b.sister@mft.nhs.uk")]),
    ("Send the form to claims@insurer-example.com and copy j.smith@firm.co.uk.",
     [("email", "claims@insurer-example.com"), ("email", "j.smith@firm.co.uk")]),
    ("Reply to <NOREPLY.PAYMENTS@BANK-EXAMPLE.DE> will bounce.", [("email", "NOREPLY.PAYMENTS@BANK-EXAMPLE.DE")]),
    ("DOB: 02-Jan-1970", [("dob", "02-Jan-1970")]),
    ("D.O.B.: 1970/01/02", [("dob", "1970/01/02")]),
    ("DOB\n15/08/1938", [("dob", "15/08/1938")]),
    ("Date of birth | 1 February 1955", [("dob", "1 February 1955")]),
    ("born on 29.02.1964 in Hamburg", [("dob", "29.02.1964")]),
    ("DOB 12 Sep 84", [("dob", "12 Sep 84")]),
    ("Birth date: March 3, 1977", [("dob", "March 3, 1977")]),
    ("NHS number 341 753 4046", [("nhs", "341 753 4046")]),
    ("NHS No. 7658393851", [("nhs", "7658393851")]),
    ("nhs: 800-878-0355", [("nhs", "800-878-0355")]),
    ("NHS Number: 054 669 4551 (verified)", [("nhs", "054 669 4551")]),
    ("Patient identifier 638 208 5332 on the wristband.", [("nhs", "638 208 5332")]),
    ("SSN 844-46-7737", [("ssn", "844-46-7737")]),
    ("Social security number: 121 98 0825", [("ssn", "121 98 0825")]),
    ("SSN 362310347 on the 1099 form", [("ssn", "362310347")]),
    ("Tax ID (SSN) 243-68-0569 provided by the applicant.", [("ssn", "243-68-0569")]),
]

NEGATIVES: list[Item] = [
    ("Started on Warfarin 5 mg and Metformin 500 mg BD; stop Naproxen.", []),
    ("Apixaban 5 mg BD, Atorvastatin 40 mg ON, Lansoprazole 30 mg OD.", []),
    ("Switch Tazocin to Augmentin when afebrile for 48 hours.", []),
    ("Oramorph 2.5-5 mg PRN; Ondansetron 4 mg IV PRN for nausea.", []),
    ("Insulin glargine (Lantus) 18 units at 22:00, NovoRapid with meals.", []),
    ("Continue Sertraline 50 mg and Gabapentin 300 mg TDS.", []),
    ("Salbutamol inhaler PRN and Seretide 250 two puffs BD.", []),
    ("Clexane 40 mg SC OD until fully mobile.", []),
    ("Humira fortnightly; consider switching to Stelara if no response.", []),
    ("Keytruda cycle 3 delayed because of grade 2 colitis.", []),
    ("Levothyroxine 100 micrograms, Furosemide 40 mg mane, Spironolactone 25 mg.", []),
    ("Co-codamol 30/500 two tablets QDS, Paracetamol if needed instead.", []),
    ("Transferred from Nightingale Ward to Keats Ward at 02:00.", []),
    ("Bed available on Florence Ward; Lister Ward is closed for norovirus.", []),
    ("Seacole Ward and Cavell Ward share a night sister.", []),
    ("Admitted to the Darwin Unit under the stroke team.", []),
    ("Victoria Ward has two side rooms for infection control.", []),
    ("Referred to St Thomas' Hospital for an electrophysiology study.", []),
    ("Discharged from the Royal Free Hospital on 12 January 2025.", []),
    ("Addenbrooke's Hospital accepted the transfer for neurosurgery.", []),
    ("Follow-up at the John Radcliffe Hospital in Oxford.", []),
    ("Outpatient MRI at St Mary's Hospital, Paddington.", []),
    ("Tertiary opinion from Great Ormond Street.", []),
    ("Second opinion requested from the Mayo Clinic.", []),
    ("Paediatric cardiology at Alder Hey Children's Hospital.", []),
    ("Queen Elizabeth Hospital Birmingham runs the regional burns unit.", []),
    ("Guy's Hospital renal unit will dialyse on Tuesday.", []),
    ("Known Parkinson's disease and Crohn's disease.", []),
    ("History of Hodgkin lymphoma (2009), in remission.", []),
    ("Screened for Cushing's syndrome and Addison's disease: negative.", []),
    ("Left-sided Bell's palsy; eye care advice given.", []),
    ("Glasgow Coma Scale 15/15 on arrival.", []),
    ("Wells score 1, D-dimer negative; PE excluded.", []),
    ("Apgar scores 9 and 10; baby feeding well.", []),
    ("Guillain-Barré syndrome suspected; lumbar puncture today.", []),
    ("Alzheimer's dementia, moderate; lives in a care home.", []),
    ("Graves' disease treated with radioiodine in 2018.", []),
    ("Down syndrome; attends day centre three days a week.", []),
    ("Transfer the funds via Barclays or Lloyds Bank, whichever is cheaper.", []),
    ("HSBC and NatWest both declined the application.", []),
    ("Statement from Santander UK plc, Bootle Centre.", []),
    ("Wells Fargo will process the wire on Monday.", []),
    ("Portfolio held with Charles Schwab and Morgan Stanley.", []),
    ("Deutsche Bank AG, Frankfurt am Main, BIC DEUTDEFF.", []),
    ("Goldman Sachs and JP Morgan led the bond issue.", []),
    ("Standard Chartered closed the Dubai branch.", []),
    ("Implant supplied by Johnson & Johnson; pacemaker by Medtronic.", []),
    ("Vaccine batch from Pfizer; second dose AstraZeneca.", []),
    ("Scanner made by Siemens Healthineers, serviced by Philips.", []),
    ("Clinic moved to Victoria Street, next to Baker Street station.", []),
    ("Home visit in Kingston upon Thames on Wednesday afternoon.", []),
    ("Appointment on 12/03/2025 at 10:30 with the diabetes nurse.", []),
    ("Admitted 2025/01/14, discharged 2025/01/19.", []),
    ("Letter dated 02-Jan-2025; clinic date 14-Feb-2025.", []),
    ("Scan booked for 30 June 2025, results by 14 July 2025.", []),
    ("Date of admission: 05/06/2024\nDate of discharge: 09/06/2024", []),
    ("Payment of GBP 4,111,111.11 received from the sale of the property.", []),
    ("Total assets EUR 5.105.105.105.100 at year end.", []),
    ("Invoice 4111-1111-1111-1112 is unpaid (reference, not a card).", []),
    ("Order number 4021 5543 1209 8873 dispatched.", []),
    ("Tracking 1Z 999 AA1 01 2345 6784", []),
    ("Sort code 20-45-77, account 55779911.", []),
    ("Loan of EUR 250,000.00 at 3.25% over 25 years.", []),
    ("Hb 132 g/L, WCC 11.2, platelets 245, CRP 48.", []),
    ("BP 142/88, HR 96, RR 20, SpO2 94% on air, temp 38.1.", []),
    ("pH 7.31, pCO2 6.8 kPa, HCO3 24, lactate 2.1.", []),
    ("Dose 2.5 mg at 08:00 and 20:00.", []),
    ("Patient Information Leaflet given about the procedure.", []),
    ("Name of medicine: Ramipril. Strength: 5 mg.", []),
    ("Patient was seen in clinic and is improving.", []),
    ("Signed off sick for two weeks; fit note issued.", []),
    ("Dear Sir or Madam, please find the statement enclosed.", []),
    ("Case ID 765 839 3852 (checksum fails, not an NHS number).", []),
    ("Ref 219-09-9999 (never issued as an SSN).", []),
    ("Account GB00 PIVQ 5260 5747 9380 92 is invalid (check digits).", []),
    ("Room 3.14, Building 2, floor 3.", []),
    ("Version 10.4.3.2021 of the EPR was installed.", []),
    ("Call 111 or 999 in an emergency.", []),
    ("The Nightingale courses start in September.", []),
    ("Chelsea and Westminster Hospital NHS Foundation Trust annual report.", []),
]

SECTIONS = {"clinical": CLINICAL, "bank": BANK, "rules": RULES, "negatives": NEGATIVES}
SEED = 12


def _spans(text: str, labels: list[tuple[str, str]]) -> list[dict[str, object]]:
    found: list[tuple[int, int, str]] = []
    for kind, sub in labels:
        hits = [m.start() for m in re.finditer(rf"(?<![\w]){re.escape(sub)}(?![\w])", text)]
        if not hits:
            raise ValueError(f"{sub!r} is not in {text!r}")
        found += [(s, s + len(sub), kind) for s in hits]
    # an occurrence inside a longer label ("Gonzales" inside "Maria Gonzales") is that label's
    kept = [f for f in found if not any(o != f and o[0] <= f[0] and f[1] <= o[1] for o in found)]
    return [{"start": s, "end": e, "label": k} for s, e, k in sorted(set(kept))]


def build() -> list[dict[str, object]]:
    rows = []
    for section, items in SECTIONS.items():
        order = list(range(len(items)))
        random.Random(f"{SEED}-{section}").shuffle(order)
        for rank, i in enumerate(order):
            text, labels = items[i]
            rows.append({"id": f"{section}-{i + 1:03d}", "split": "dev" if rank % 2 == 0 else "held-out",
                         "section": section, "text": text, "spans": _spans(text, labels)})
    return sorted(rows, key=lambda r: str(r["id"]))


if __name__ == "__main__":
    rows = build()
    with (HERE / "samples.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} items written to {HERE / 'samples.jsonl'}")
